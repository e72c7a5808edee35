"""Launching and watching an experiment's entities: start, stop, poll, status.

``JobControl`` is the half of ``Experiment`` that deals with jobs; the other
half (``experiment.py``) creates entities and their directories. Behaviour
follows SmartSim 0.8: ``start(block=True)`` and ``poll`` wait for every
running job that is not a database, ``start`` makes each entity's directory.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from .db.databases import DB_LABEL, Databases, is_database_job
from .db.socket_dir import check_user_socket, colocated_socket
from .entities.ensemble import Ensemble, models_of
from .entities.model import Model
from .entities.orchestrator import Orchestrator
from .entities.steps import batched, model_step, write_colocated_config
from .errors import (
    ArgumentTypeError,
    EntityDirExistsError,
    GenerationError,
    SSConfigError,
    SSContainerError,
    SSDBIDConflictError,
)
from .generation import ownership
from .interrupts import InterruptGuard
from .jobs import Job, JobTable
from .launchers.base import Launcher
from .limits import check_path, check_text
from .log import get_logger
from .manifest import entry_for, record_end, record_launch
from .placement import Planner
from .settings.smartsim_containers import Container
from .status import Status
from .stopping import stderr_line, stop_jobs, sweep_leftovers
from .summary import launch_summary

Entity = Model | Ensemble | Orchestrator
OUTPUTS_FLUSH_S = 1.0  # ended jobs' outputs are recorded at most this often (and at the end)
logger = get_logger("sscontainer.experiment")


class JobControl:
    """Start, stop and watch entities; the state lives on the ``Experiment``."""

    name: str
    exp_path: str
    _launcher_name: str
    _launcher: Launcher | None
    _jobs: JobTable
    _interrupts: InterruptGuard
    _databases: Databases
    _planner: Planner
    _entities: dict[str, Entity]
    _mark: str  # this driver's process mark (launchers/process_marks.py)
    _old_marks: list[str]  # earlier drivers' (reconnect): their leftovers are ours to end
    _pending_outputs: dict[str, Any]  # run directory snapshots of jobs that just ended
    _outputs_flushed: float

    @property
    def launcher(self) -> str:
        return self._launcher_name

    def _get_launcher(self) -> Launcher:
        raise NotImplementedError

    # --- lifecycle ---------------------------------------------------------------
    def _check_entities(self, entities: Iterable[Any]) -> list[Entity]:
        out: list[Entity] = []
        for entity in entities:
            if not isinstance(entity, (Model, Ensemble, Orchestrator)):
                raise ArgumentTypeError(
                    "expected a Model, Ensemble or Orchestrator created by this experiment, "
                    f"got {entity!r}"
                )
            out.append(entity)
        return out

    def _job_names(self, entities: Iterable[Entity]) -> list[str]:
        names: list[str] = []
        for entity in entities:
            if isinstance(entity, Orchestrator):
                names.extend(f"{entity.name}_{i}" for i in range(entity.num_shards))
            else:
                names.extend(m.name for m in models_of([entity]))
        return names

    def _create_entity_dirs(self, entities: Iterable[Entity]) -> None:
        """``start`` without ``generate``: each entity's path must exist (SmartSim makes it).

        Those made here are recorded as sscontainer's (``generate`` may replace them later).
        """
        paths = []
        for entity in entities:
            paths += [entity.path, *(m.path for m in getattr(entity, "models", []))]
        for path in paths:
            check_text(path, "entity path")
            if os.path.lexists(path) and not os.path.isdir(path):
                raise EntityDirExistsError(
                    f"{path} is a file, not a directory: an entity's directory cannot go "
                    "there; choose another path or entity name"
                )
        made = [p for p in paths if not os.path.lexists(p)]
        try:
            for path in made:
                os.makedirs(path, exist_ok=True)
        except OSError as exc:
            raise GenerationError(
                f"could not create {exc.filename}: {exc.strerror or exc}: check that the "
                "experiment path is writable"
            ) from exc
        inside = [p for p in made if os.path.commonpath([p, self.exp_path]) == self.exp_path]
        if inside:
            ownership.record(self.exp_path, *inside)

    def _check_identifiers(self, entities: Sequence[Entity]) -> None:
        """A database identifier belongs to one running database: a second database, or a
        colocated one, with the same identifier is refused (``SSDBIDConflictError``)."""
        databases = [e for e in entities if isinstance(e, Orchestrator)]
        starting: set[str] = set()
        for orch in databases:
            self._databases.check_identifier(orch.db_identifier)
            if orch.db_identifier in starting:
                raise SSDBIDConflictError(
                    f"Database identifier {orch.db_identifier} is given to two databases: "
                    "pass a unique db_identifier to each"
                )
            starting.add(orch.db_identifier)
        for model in models_of(entities):
            ident = model.colocated.db_identifier if model.colocated is not None else ""
            self._databases.check_identifier(ident)
            if ident and ident in starting:
                raise SSDBIDConflictError(
                    f"Database identifier {ident} has already been used. Pass in a unique "
                    "name for db_identifier"
                )

    def start(
        self,
        *entities: Entity,
        block: bool = True,
        summary: bool = False,
        kill_on_interrupt: bool = True,
    ) -> None:
        """Launch entities (databases first); with ``block`` wait for every running job
        that is not a database (databases run until ``stop``)."""
        checked = self._check_entities(entities)
        self._check_identifiers(checked)
        check_path(self.exp_path, "experiment path")
        models = models_of(checked)
        self._place_sockets(models)
        self._create_entity_dirs(checked)
        for model in models:
            job = self._jobs.get(model.name)
            if job is not None and not job.refresh().is_terminal:
                raise SSConfigError(
                    f"{model.name!r} is still running: stop it or wait before starting it again"
                )
        if summary:
            logger.info(self._launch_summary(checked))
        if kill_on_interrupt:  # before the first launch: a SIGTERM then stops it too
            self._interrupts.install()
        for orch in [e for e in checked if isinstance(e, Orchestrator)]:
            place = self._planner.orchestrator(orch.name, self._db_backends(orch))
            self._databases.start(orch, self._get_launcher(), place, self._track)
        launcher = self._get_launcher()
        launched: list[Job] = []
        try:
            db_env = self._databases.env()
            for entity in checked:
                if not isinstance(entity, Orchestrator):
                    launched.extend(self._launch(entity, launcher, db_env))
            if block:
                self._jobs.wait([j for j in self._jobs.running() if not is_database_job(j)])
                self._flush_outputs()
        except KeyboardInterrupt:
            if kill_on_interrupt:
                self._stop_jobs(launched)
            raise

    def _db_backends(self, orch: Orchestrator) -> tuple[str, ...]:
        """ML backends ``orch``'s image needs: for every model of this experiment."""
        from .ml.hooks import database_backends  # [ml]

        return database_backends(orch, models_of(self._entities.values()))

    def _place_sockets(self, models: Iterable[Model]) -> None:
        """Colocated sockets: a private one per model and driver, or the user's, checked."""
        for model in models:
            config = model.colocated
            if config is None or config.transport != "uds":
                continue
            if model.auto_socket:
                config.unix_socket = colocated_socket(
                    self.exp_path, self.name, self._mark, model.name,
                    node_local=self._launcher_name == "slurm",
                )
                model.run_settings.colocated_db_settings = model._colocated_db_settings()
            else:
                check_user_socket(config.unix_socket, model.name)

    def _launch_summary(self, entities: Sequence[Entity]) -> str:
        dbs = [e for e in entities if isinstance(e, Orchestrator)]
        status = "active" if self._databases.running_ids() else (
            "launching" if dbs else "inactive")
        listed = [(e.type, e.name) for e in entities]
        return launch_summary(self.name, self.exp_path, self.launcher, listed, status)

    def _launch(
        self, entity: Model | Ensemble, launcher: Launcher, db_env: dict[str, str]
    ) -> list[Job]:
        """Launch a model, or an ensemble's members (one job array when batched on Slurm)."""
        from .ml.hooks import load_model_assets  # [ml]

        steps = []
        for model in models_of([entity]):
            if self._launcher_name == "docker" and isinstance(model.run_settings.container,
                                                              Container):
                model.run_settings.container = model.run_settings.container.to_container_settings()
            place = self._planner.model(model)
            load_model_assets(model, db_env)  # [ml] its ML models/scripts first: clear error
            write_colocated_config(model, place)
            steps.append(model_step(model, db_env, place))
        start_array = getattr(launcher, "start_array", None)
        if isinstance(entity, Ensemble) and entity.batch_settings and callable(start_array):
            steps = [batched(step, entity.batch_settings) for step in steps]
            handles = list(start_array(steps, name=entity.name))
        else:
            handles = [launcher.start(step) for step in steps]
        jobs = [Job(step, handle, launcher) for step, handle in zip(steps, handles, strict=True)]
        for job in jobs:
            self._track(job)
        return jobs

    def _track(self, job: Job) -> None:
        """Remember a launch here and in the manifest (for status/stop/reconnect later)."""
        job.on_end = self._record_end
        identity = getattr(job.launcher, "identity", None)
        if callable(identity):
            job.identity = identity(job.handle)
        self._jobs.add(job)
        mark = getattr(job.launcher, "mark", None)
        self._state_write(lambda: record_launch(self.exp_path, self.name, entry_for(job), mark))

    def _record_end(self, job: Job, outputs_are_ours: bool = True) -> None:
        """Note a job's end; ``outputs_are_ours``: this driver launched it and sees it end
        now, so what is in its run directory is its output (a later driver, e.g. `status`,
        cannot tell that from a user's edits since, and leaves the record as it was)."""

        def write() -> None:
            end = job.end_time or 0.0
            final = record_end(
                self.exp_path, job.name, job.handle, job.status.value, job.returncode, end
            )
            if final == Status.CANCELLED.value:  # a stop was asked for: by us or another shell
                job.status = Status.CANCELLED

        self._state_write(write)
        if outputs_are_ours and not is_database_job(job):
            self._pending_outputs.update(ownership.snapshots(self.exp_path, [job.step.cwd]))
            if time.monotonic() - self._outputs_flushed > OUTPUTS_FLUSH_S:
                self._flush_outputs()

    def _flush_outputs(self) -> None:
        """Record the outputs of the jobs that ended (batched: one write for many ends)."""
        self._outputs_flushed = time.monotonic()
        if self._pending_outputs:
            shots, self._pending_outputs = self._pending_outputs, {}
            self._state_write(lambda: ownership.store(self.exp_path, shots))

    def _state_write(self, write: Callable[[], object]) -> None:
        """Write the experiment's records; a read-only directory is said once, not fatal."""
        try:
            write()
        except (OSError, SSContainerError) as exc:
            if not getattr(self, "_state_warned", False):
                self._state_warned = True
                stderr_line(f"sscontainer: warning: cannot update {self.exp_path}/.sscontainer "
                            f"({exc}): `sscontainer status` will not show what happens from "
                            "now on")

    def _stop_jobs(self, jobs: Iterable[Job]) -> None:
        stop_jobs(jobs, self.exp_path)

    def _stop_everything(self) -> None:
        """Every running job (databases and ML workers too), and what they left behind."""
        stop_jobs(self._jobs.running(), self.exp_path)
        self._databases.stop_all()
        self._sweep()
        self._flush_outputs()

    def _sweep(self) -> list[str]:
        children = [int(j.handle) for j in self._jobs.all()
                    if j.launcher.name == "local" and j.handle.isdigit()]
        return sweep_leftovers([self._mark, *self._old_marks], children)

    def stop(self, *entities: Entity) -> None:
        """Stop the given entities (their jobs end CANCELLED); no entity: every running job,
        and every process the experiment's jobs left behind. One grace period in all."""
        if not entities:
            self._stop_everything()
        else:
            checked = self._check_entities(entities)
            jobs = [self._jobs.get(m.name) for m in models_of(checked)]
            names = {o.name for o in checked if isinstance(o, Orchestrator)}
            jobs += [j for j in self._jobs.all() if j.step.labels.get(DB_LABEL) in names]
            stop_jobs([j for j in jobs if j is not None], self.exp_path)
            for orch in [e for e in checked if isinstance(e, Orchestrator)]:
                self._databases.stop(orch)
        self._flush_outputs()
        release = getattr(self._launcher, "release", None)
        if callable(release) and not self._jobs.running():  # nothing left on its network
            release(self._planner.labels(self.name))

    def _retire(self, orch: Orchestrator) -> None:
        """Stop a database whose work is done (the CLI, after a run): its jobs that end by
        this stop end Completed, not Cancelled; one that failed earlier stays Failed."""
        jobs = [j for j in self._jobs.all()
                if j.step.labels.get(DB_LABEL) == orch.name and not j.refresh().is_terminal]
        self.stop(orch)
        for job in jobs:
            if job.status == Status.CANCELLED:
                job.status = Status.COMPLETED
                self._state_write(functools.partial(
                    record_end, self.exp_path, job.name, job.handle, Status.COMPLETED.value,
                    job.returncode, job.end_time or 0.0))

    @property
    def jobs(self) -> JobTable:
        """The jobs this experiment launched (latest per entity)."""
        return self._jobs

    def poll(
        self, interval: int = 10, verbose: bool = True, kill_on_interrupt: bool = True
    ) -> None:
        """Block until every running job that is not a database ends; with ``verbose``
        log each one's status every ``interval`` seconds (databases run until ``stop``)."""

        def tick(jobs: list[Job]) -> None:
            if verbose:
                for job in jobs:
                    logger.info(f"{job.step.entity_type} {job.name}: {job.status.value}")

        try:
            pending = [j for j in self._jobs.running() if not is_database_job(j)]
            self._jobs.wait(pending, interval=interval, on_tick=tick)
            self._flush_outputs()
        except KeyboardInterrupt:
            if kill_on_interrupt:
                self._stop_jobs(self._jobs.running())
            raise

    def finished(self, entity: Model | Ensemble) -> bool:
        """Whether a launched model (or every member of an ensemble) has ended."""
        if isinstance(entity, Orchestrator):
            raise ArgumentTypeError(
                "finished() does not take an Orchestrator: a database runs until stopped"
            )
        if isinstance(entity, Ensemble):
            return all(self.finished(member) for member in entity.models)
        if not isinstance(entity, Model):
            raise ArgumentTypeError(f"finished() expects a Model or Ensemble, got {entity!r}")
        job = self._jobs.get(entity.name)
        if job is None:
            raise SSConfigError(f"{entity.name!r} was never launched by this experiment")
        return job.refresh().is_terminal

    def get_status(self, *entities: Entity) -> list[Status]:
        statuses = []
        for name in self._job_names(self._check_entities(entities)):
            job = self._jobs.get(name)
            statuses.append(Status.NEVER_STARTED if job is None else job.refresh())
        self._flush_outputs()
        return statuses

    def get_returncodes(self, *entities: Entity) -> list[int | None]:
        codes: list[int | None] = []
        for name in self._job_names(self._check_entities(entities)):
            job = self._jobs.get(name)
            if job is not None:
                job.refresh()
            codes.append(None if job is None else job.returncode)
        return codes
