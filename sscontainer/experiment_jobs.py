"""Launching and watching an experiment's entities: start, stop, poll, status.

``JobControl`` is the half of ``Experiment`` that deals with jobs; the other
half (``experiment.py``) creates entities and their directories. Behaviour
follows SmartSim 0.8: ``start(block=True)`` and ``poll`` wait for every
running job that is not a database, ``start`` makes each entity's directory.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from .db.databases import Databases, is_database_job
from .entities.ensemble import Ensemble
from .entities.model import Model
from .entities.orchestrator import Orchestrator
from .entities.steps import model_step, write_colocated_config
from .errors import (
    ArgumentTypeError,
    EntityDirExistsError,
    SSConfigError,
    SSContainerError,
    SSDBIDConflictError,
)
from .interrupts import InterruptGuard
from .jobs import Job, JobTable
from .launchers.base import Launcher
from .log import get_logger
from .manifest import ManifestEntry, record_end, record_launch
from .placement import Planner
from .settings.smartsim_containers import Container
from .status import Status
from .summary import launch_summary

Entity = Model | Ensemble | Orchestrator
logger = get_logger("sscontainer.experiment")


def _makedirs(path: str) -> None:
    if os.path.isfile(path):
        raise EntityDirExistsError(f"{path} is a file: an entity's directory cannot go there")
    os.makedirs(path, exist_ok=True)


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

    @staticmethod
    def _members(entities: Iterable[Entity]) -> list[Model]:
        models: list[Model] = []
        for entity in entities:
            if isinstance(entity, Ensemble):
                models.extend(entity.models)
            elif isinstance(entity, Model):
                models.append(entity)
        return models

    def _job_names(self, entities: Iterable[Entity]) -> list[str]:
        names: list[str] = []
        for entity in entities:
            if isinstance(entity, Orchestrator):
                names.extend(f"{entity.name}_{i}" for i in range(entity.num_shards))
            else:
                names.extend(m.name for m in self._members([entity]))
        return names

    def _create_entity_dirs(self, entities: Iterable[Entity]) -> None:
        """``start`` without ``generate``: each entity's path must exist (SmartSim makes it)."""
        for entity in entities:
            _makedirs(entity.path)
            for member in getattr(entity, "models", []):
                _makedirs(member.path)

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
        for model in self._members(entities):
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
        self._create_entity_dirs(checked)
        models = self._members(checked)
        for model in models:
            job = self._jobs.get(model.name)
            if job is not None and not job.refresh().is_terminal:
                raise SSConfigError(
                    f"{model.name!r} is still running: stop it or wait before starting it again"
                )
        if summary:
            logger.info(self._launch_summary(checked))
        for orch in [e for e in checked if isinstance(e, Orchestrator)]:
            place = self._planner.orchestrator(orch.name, self._db_backends(orch))
            self._databases.start(orch, self._get_launcher(), place, self._track)
        if kill_on_interrupt:
            self._interrupts.install()
        launcher = self._get_launcher()
        launched: list[Job] = []
        try:
            db_env = self._databases.env()
            for entity in checked:
                if not isinstance(entity, Orchestrator):
                    launched.extend(self._launch(entity, launcher, db_env))
            if block:
                self._jobs.wait([j for j in self._jobs.running() if not is_database_job(j)])
        except KeyboardInterrupt:
            if kill_on_interrupt:
                self._stop_jobs(launched)
            raise

    def _db_backends(self, orch: Orchestrator) -> tuple[str, ...]:
        """ML backends ``orch``'s image needs: for every model of this experiment."""
        from .ml.hooks import database_backends  # [ml]

        return database_backends(orch, self._members(self._entities.values()))

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
        for model in self._members([entity]):
            if self._launcher_name == "docker" and isinstance(model.run_settings.container,
                                                              Container):
                model.run_settings.container = model.run_settings.container.to_container_settings()
            place = self._planner.model(model)
            load_model_assets(model, db_env)  # [ml] its ML models/scripts first: clear error
            write_colocated_config(model, place)
            steps.append(model_step(model, db_env, place))
        start_array = getattr(launcher, "start_array", None)
        if isinstance(entity, Ensemble) and entity.batch_settings and callable(start_array):
            batch = tuple(entity.batch_settings.format_batch_args())
            steps = [dataclasses.replace(step, batch_args=batch) for step in steps]
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
        self._jobs.add(job)
        entry = ManifestEntry.from_step(job.step, job.launcher.name, job.handle, job.start_time)
        ticks = getattr(job.launcher, "start_ticks", None)
        if callable(ticks) and (value := ticks(job.handle)):
            entry.labels["sscontainer.pid_start"] = str(value)
        record_launch(self.exp_path, self.name, entry)

    def _record_end(self, job: Job) -> None:
        end = job.end_time or 0.0
        record_end(self.exp_path, job.name, job.handle, job.status.value, job.returncode, end)

    def _stop_jobs(self, jobs: Iterable[Job]) -> None:
        for job in jobs:
            if not job.refresh().is_terminal:
                try:
                    job.launcher.stop(job.handle)
                except SSContainerError as exc:
                    print(f"sscontainer: could not stop {job.name}: {exc}", file=sys.stderr)
                job.refresh()

    def stop(self, *entities: Entity) -> None:
        """Stop the given entities (their jobs end CANCELLED); no entity: every running job."""
        if not entities:
            self._stop_jobs(self._jobs.running())
            self._databases.stop_all()
        else:
            checked = self._check_entities(entities)
            jobs = [self._jobs.get(m.name) for m in self._members(checked)]
            self._stop_jobs(j for j in jobs if j is not None)
            for orch in [e for e in checked if isinstance(e, Orchestrator)]:
                self._databases.stop(orch)
        release = getattr(self._launcher, "release", None)
        if callable(release) and not self._jobs.running():  # nothing left on its network
            release(self._planner.labels(self.name))

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
        return statuses

    def get_returncodes(self, *entities: Entity) -> list[int | None]:
        codes: list[int | None] = []
        for name in self._job_names(self._check_entities(entities)):
            job = self._jobs.get(name)
            if job is not None:
                job.refresh()
            codes.append(None if job is None else job.returncode)
        return codes
