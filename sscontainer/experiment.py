"""Experiment: create entities, generate their directories, start/poll/stop them."""

from __future__ import annotations

import dataclasses
import os
import shutil
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .db.databases import Databases
from .entities.ensemble import Ensemble
from .entities.model import Model, SSEntity
from .entities.orchestrator import Orchestrator
from .entities.steps import model_step, write_colocated_config
from .errors import EntityExistsError, SSConfigError, SSContainerError, SSUnsupportedError
from .generation.generator import entity_dir, generate_model
from .interrupts import InterruptGuard
from .jobs import Job, JobTable
from .launchers.base import Launcher
from .launchers.registry import LAUNCHERS, make_launcher
from .manifest import ManifestEntry, adopt_entry, load_manifest, record_end, record_launch
from .names import validate_name
from .placement import Planner
from .preview import preview_text
from .settings.batch import BatchSettings, SbatchSettings
from .settings.containers import ContainerSettings
from .settings.run import ArgValue, RunSettings, settings_class_for
from .status import Status
from .summary import TABLE_STYLES

Entity = Model | Ensemble | Orchestrator


def _resolve_launcher(launcher: str) -> str:
    if launcher == "auto":
        return "slurm" if shutil.which("sbatch") else "local"
    if launcher not in LAUNCHERS:
        raise SSConfigError(
            f"launcher {launcher!r} is not known: use one of auto, {', '.join(LAUNCHERS)}"
        )
    return launcher


class Experiment:
    """A workflow: its entities, their run directories and their jobs."""

    def __init__(self, name: str, exp_path: str | None = None, launcher: str = "local") -> None:
        self.name = validate_name(name, "experiment name")
        self.exp_path = os.path.abspath(exp_path or os.path.join(os.getcwd(), name))
        self._launcher_name = _resolve_launcher(launcher)
        self._launcher: Launcher | None = None
        self._entities: dict[str, Entity] = {}
        self._jobs = JobTable()
        self._interrupts = InterruptGuard(lambda: self._stop_jobs(self._jobs.running()))
        self._databases = Databases(self.exp_path)
        self._planner = Planner(self.name, self.exp_path, self._launcher_name)

    # --- factories ---------------------------------------------------------------
    @property
    def launcher(self) -> str:
        return self._launcher_name

    def _get_launcher(self) -> Launcher:
        if self._launcher is None:
            self._launcher = make_launcher(self._launcher_name)
        return self._launcher

    def create_run_settings(
        self,
        exe: str,
        exe_args: str | Iterable[str] | None = None,
        run_command: str | None = "auto",
        run_args: Mapping[str, ArgValue] | None = None,
        env_vars: Mapping[str, str] | None = None,
        container: Any = None,
        **kwargs: Any,
    ) -> RunSettings:
        if kwargs:
            raise SSConfigError(f"create_run_settings got unknown arguments {sorted(kwargs)}")
        if container is None and self._launcher_name in ("docker", "slurm"):
            container = self.default_container  # the exe lives in the image, not here
        cls = settings_class_for(run_command, self._launcher_name)
        return cls(exe, exe_args, run_args=run_args, env_vars=env_vars, container=container)

    @property
    def default_container(self) -> ContainerSettings:
        """Container settings for models that give none (sscontainer's base image)."""
        return self._planner.default()

    @default_container.setter
    def default_container(self, container: ContainerSettings) -> None:
        if not isinstance(container, ContainerSettings):
            raise SSConfigError(f"default_container must be ContainerSettings, got {container!r}")
        self._planner.default_container = container

    def image_policy(self, build_missing: bool = True, quiet: bool = False) -> None:
        """Whether ``start`` builds images that do not exist yet (the CLI's ``--build``)."""
        self._planner.images.build_missing = build_missing
        self._planner.images.quiet = quiet

    def build(
        self, *entities: Entity, no_cache: bool = False, quiet: bool = False
    ) -> dict[str, str]:
        """Build (or find) every image the entities need; returns entity name -> image."""
        chosen = self._check_entities(entities) or list(self._entities.values())
        orchestrators = [e.name for e in chosen if isinstance(e, Orchestrator)]
        return self._planner.build(orchestrators, self._members(chosen), no_cache, quiet)

    def create_batch_settings(
        self,
        nodes: int = 1,
        time: str = "",
        queue: str = "",
        account: str = "",
        batch_args: Mapping[str, ArgValue] | None = None,
        **kwargs: Any,
    ) -> BatchSettings:
        if kwargs:
            raise SSConfigError(f"create_batch_settings got unknown arguments {sorted(kwargs)}")
        if self._launcher_name != "slurm":
            raise SSUnsupportedError(
                f"batch settings need a workload manager; this experiment uses the "
                f"{self._launcher_name!r} launcher: use launcher='slurm'"
            )
        return SbatchSettings(nodes, time, queue, account, batch_args)

    def _register(self, entity: Entity) -> None:
        names = {entity.name, *(m.name for m in getattr(entity, "models", []))}
        for existing in self._entities.values():
            taken = {existing.name, *(m.name for m in getattr(existing, "models", []))}
            if names & taken:
                raise EntityExistsError(
                    f"an entity named {sorted(names & taken)[0]!r} already exists in experiment "
                    f"{self.name!r}: entity names must be unique"
                )
        self._entities[entity.name] = entity

    def create_model(
        self,
        name: str,
        run_settings: RunSettings,
        params: Mapping[str, Any] | None = None,
        path: str | None = None,
        enable_key_prefixing: bool = False,
        batch_settings: BatchSettings | None = None,
        params_as_args: Iterable[str] | None = None,
    ) -> Model:
        model = Model(
            name, params, run_settings, path, params_as_args, batch_settings, enable_key_prefixing
        )
        self._register(model)
        return model

    def create_ensemble(
        self,
        name: str,
        params: Mapping[str, Any] | None = None,
        run_settings: RunSettings | None = None,
        replicas: int | None = None,
        perm_strategy: str | Callable[..., Any] = "all_perm",
        batch_settings: BatchSettings | None = None,
        n_models: int | None = None,
        path: str | None = None,
    ) -> Ensemble:
        ensemble = Ensemble(
            name, params, run_settings, replicas, perm_strategy, batch_settings, n_models, path
        )
        self._register(ensemble)
        return ensemble

    def create_database(
        self,
        port: int = 6379,
        db_nodes: int = 1,
        batch: bool = False,
        hosts: str | Iterable[str] | None = None,
        run_command: str = "auto",
        interface: str | Iterable[str] = "lo",
        db_identifier: str = "orchestrator",
        **kwargs: Any,
    ) -> Orchestrator:
        """A database of ``db_nodes`` shards (1: standalone; >=3: a Redis Cluster)."""
        orch = Orchestrator(
            port=port,
            db_nodes=db_nodes,
            interface=interface,
            hosts=hosts,
            batch=batch,
            run_command=run_command,
            db_identifier=db_identifier,
            path=os.path.join(self.exp_path, db_identifier),
            **kwargs,
        )
        self._register(orch)
        return orch

    # --- generation --------------------------------------------------------------
    def generate(self, *entities: Entity, tag: str | None = None, overwrite: bool = False) -> None:
        """Create ``<exp_path>/<entity>/`` run directories with their files."""
        os.makedirs(self.exp_path, exist_ok=True)
        for entity in self._check_entities(entities):
            if isinstance(entity, Orchestrator):
                os.makedirs(entity.path, exist_ok=True)
            elif isinstance(entity, Ensemble):
                for member in entity.models:
                    generate_model(
                        member, entity_dir(self.exp_path, member, entity.name), overwrite, tag
                    )
            else:
                generate_model(entity, entity_dir(self.exp_path, entity), overwrite, tag)

    # --- lifecycle ---------------------------------------------------------------
    def _check_entities(self, entities: Iterable[Any]) -> list[Entity]:
        out: list[Entity] = []
        for entity in entities:
            if not isinstance(entity, (Model, Ensemble, Orchestrator)):
                raise SSConfigError(
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

    # --- databases ------------------------------------------------------------------
    def _start_database(self, orch: Orchestrator) -> None:
        place = self._planner.orchestrator(orch.name)
        self._databases.start(orch, self._get_launcher(), place, self._track)

    def start(
        self,
        *entities: Entity,
        block: bool = True,
        summary: bool = False,
        kill_on_interrupt: bool = True,
    ) -> None:
        """Launch entities (databases first); with ``block`` wait until the models end."""
        checked = self._check_entities(entities)
        for orch in [e for e in checked if isinstance(e, Orchestrator)]:
            self._start_database(orch)
        models = self._members(checked)
        for model in models:
            job = self._jobs.get(model.name)
            if job is not None and not job.refresh().is_terminal:
                raise SSConfigError(
                    f"{model.name!r} is still running: stop it or wait before starting it again"
                )
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
                self._jobs.wait(launched)
        except KeyboardInterrupt:
            if kill_on_interrupt:
                self._stop_jobs(launched)
            raise
        if summary:
            print(self.summary(), flush=True)

    def _launch(
        self, entity: Model | Ensemble, launcher: Launcher, db_env: dict[str, str]
    ) -> list[Job]:
        """Launch a model, or an ensemble's members (one job array when batched on Slurm)."""
        from .ml.hooks import load_model_assets  # [ml]

        steps = []
        for model in self._members([entity]):
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

    @classmethod
    def reconnect(cls, exp_path: str) -> Experiment:
        """A new driver for an experiment an earlier one started: poll and stop its jobs."""
        exp_path = os.path.abspath(exp_path)
        name, entries = load_manifest(exp_path)
        if not entries:
            raise SSConfigError(f"the manifest in {exp_path} records no launch")
        name = name or os.path.basename(exp_path)
        exp = cls(name, exp_path=exp_path, launcher=entries[-1].launcher)
        launchers: dict[str, Launcher] = {exp.launcher: exp._get_launcher()}
        for entry in entries:
            if entry.launcher not in launchers:
                launchers[entry.launcher] = make_launcher(entry.launcher)
            job = adopt_entry(entry, launchers[entry.launcher])
            if not job.status.is_terminal:
                job.on_end = exp._record_end
            exp._jobs.add(job)
        return exp

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
            jobs = [self._job_of(m) for m in self._members(checked)]
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

    def _job_of(self, model: Model) -> Job | None:
        return self._jobs.get(model.name)

    def poll(
        self, interval: int = 10, verbose: bool = True, kill_on_interrupt: bool = True
    ) -> None:
        """Block until every launched job ends, printing status every ``interval`` s."""

        def tick(jobs: list[Job]) -> None:
            if verbose:
                for job in jobs:
                    print(f"{job.name}: {job.status.value}", flush=True)

        try:
            self._jobs.wait(self._jobs.running(), interval=interval, on_tick=tick)
        except KeyboardInterrupt:
            if kill_on_interrupt:
                self._stop_jobs(self._jobs.running())
            raise

    def finished(self, entity: Model) -> bool:
        job = self._job_of(entity)
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

    # --- reporting ---------------------------------------------------------------
    def summary(self, style: str = "github") -> str:
        if style not in TABLE_STYLES:
            raise SSConfigError(f"summary style {style!r}: use one of {', '.join(TABLE_STYLES)}")
        return self._jobs.table(style)

    def preview(self, *entities: Entity) -> str:
        """Print (and return) what ``start`` would run, without running anything."""
        chosen = self._check_entities(entities) or list(self._entities.values())
        orchestrators = [e for e in chosen if isinstance(e, Orchestrator)]
        db_env = {k: "<set at start>" for o in orchestrators for k in o.client_env()}
        db_env.update(self._databases.env())
        header = f"Experiment {self.name} (launcher: {self._launcher_name}, path: {self.exp_path})"
        models = [(m, model_step(m, db_env)) for m in self._members(chosen)]
        text = preview_text(header, orchestrators, models)
        print(text, flush=True)
        return text

    def __repr__(self) -> str:
        return f"Experiment({self.name!r}, exp_path={self.exp_path!r}, launcher={self.launcher!r})"


__all__ = ["Experiment", "SSEntity"]
