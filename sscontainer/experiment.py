"""Experiment: create entities, generate their directories, start/poll/stop them.

The public API and its behaviour follow SmartSim 0.8's ``Experiment``; the
README lists where sscontainer deliberately differs.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from .db.databases import Databases
from .entities.ensemble import Ensemble, models_of
from .entities.model import Model, SSEntity
from .entities.orchestrator import Orchestrator
from .errors import (
    ArgumentTypeError,
    EntityExistsError,
    MissingNameError,
    SSConfigError,
    UnsupportedArgumentError,
)
from .experiment_jobs import Entity, JobControl
from .interrupts import InterruptGuard
from .jobs import JobTable
from .launchers.base import Launcher
from .launchers.process_marks import new_token
from .launchers.registry import LAUNCHERS, make_launcher
from .limits import check_text, check_words, shown
from .log import get_logger
from .manifest import adopt_entry, load_manifest, manifest_extras
from .names import check_not_reserved, validate_name
from .placement import Planner
from .settings.batch import BatchSettings
from .settings.containers import ContainerSettings
from .settings.run import ArgValue, RunSettings, create_run_settings
from .settings.settings import create_batch_settings
from .settings.smartsim_containers import Container
from .summary import TABLE_STYLES

logger = get_logger("sscontainer.experiment")
OTHER_WORKLOAD_MANAGERS = ("pbs", "pals", "lsf", "sge", "dragon", "cobalt")


def _resolve_launcher(launcher: str) -> str:
    if not isinstance(launcher, str):
        raise ArgumentTypeError(f"launcher must be a string, got {launcher!r}")
    launcher = launcher.lower()
    if launcher == "auto":
        return "slurm" if shutil.which("sbatch") else "local"
    if launcher not in LAUNCHERS:
        supported = ", ".join(["auto", *LAUNCHERS])
        what = "is not supported by sscontainer" if launcher in OTHER_WORKLOAD_MANAGERS else (
            "is not known")
        raise UnsupportedArgumentError(f"launcher {launcher!r} {what}: use one of {supported}")
    return launcher


def _flush_at_exit(ref: weakref.ref[Experiment]) -> None:
    exp = ref()
    if exp is not None:
        exp._flush_outputs()


class Experiment(JobControl):
    """A workflow: its entities, their run directories and their jobs.

    Starting, stopping and watching jobs is :class:`~sscontainer.experiment_jobs.JobControl`.
    """

    def __init__(self, name: str, exp_path: str | None = None, launcher: str = "local") -> None:
        self.name = validate_name(name, "experiment name")
        if exp_path is not None and not isinstance(exp_path, (str, os.PathLike)):
            raise ArgumentTypeError(f"exp_path must be a str, got {shown(exp_path)}")
        if exp_path is not None:
            check_text(os.fspath(exp_path), "exp_path")
        self.exp_path = os.path.abspath(exp_path or os.path.join(os.getcwd(), name))
        self._launcher_name = _resolve_launcher(launcher)
        self._launcher: Launcher | None = None
        self._entities: dict[str, Entity] = {}
        self.db_identifiers: set[str] = set()
        self._jobs = JobTable()
        self._mark = new_token()  # in every local process's environment: see process_marks
        self._old_marks: list[str] = []
        self._planned: list[tuple[str, str]] = []  # the CLI's entities: never-started rows
        self._pending_outputs: dict[str, Any] = {}
        self._outputs_flushed = 0.0
        atexit.register(_flush_at_exit, weakref.ref(self))  # a driver that ends without waiting
        self._interrupts = InterruptGuard(self._stop_everything)
        self._databases = Databases(self.exp_path)
        self._planner = Planner(self.name, self.exp_path, self._launcher_name)

    def _get_launcher(self) -> Launcher:
        if self._launcher is None:
            self._launcher = make_launcher(self._launcher_name)
            if hasattr(self._launcher, "mark"):
                self._launcher.mark = self._mark
        return self._launcher

    # --- factories ---------------------------------------------------------------
    def create_run_settings(
        self,
        exe: str,
        exe_args: str | Iterable[str] | None = None,
        run_command: str | None = "auto",
        run_args: Mapping[str, ArgValue] | None = None,
        env_vars: Mapping[str, str | None] | None = None,
        container: Any = None,
        **kwargs: Any,
    ) -> RunSettings:
        """``RunSettings`` for this launcher (``run_command="auto"``: ``srun`` under Slurm).

        Under the docker and slurm launchers a model runs in a container: without
        ``container`` it gets the experiment's default image (its exe lives there).
        A SmartSim ``Container`` (``Singularity``) wraps the exe itself, except under
        the docker launcher, which runs its image as ``ContainerSettings``.
        """
        if isinstance(container, Container) and self._launcher_name == "docker":
            container = container.to_container_settings()
        if container is None and self._launcher_name in ("docker", "slurm"):
            container = self.default_container  # the exe lives in the image, not here
        return create_run_settings(
            self._launcher_name, exe, exe_args, run_command, run_args, env_vars,
            container=container, **kwargs,
        )

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
        orchestrators = {e.name: self._db_backends(e) for e in chosen
                         if isinstance(e, Orchestrator)}
        return self._planner.build(orchestrators, models_of(chosen), no_cache, quiet)

    def create_batch_settings(
        self,
        nodes: int = 1,
        time: str = "",
        queue: str = "",
        account: str = "",
        batch_args: Mapping[str, ArgValue] | None = None,
        **kwargs: Any,
    ) -> BatchSettings:
        return create_batch_settings(
            self._launcher_name, nodes=nodes, time=time, queue=queue, account=account,
            batch_args=batch_args, **kwargs,
        )

    def _register(self, entity: Entity) -> None:
        check_not_reserved(entity.name, f"{entity.type} name")
        names = {entity.name, *(m.name for m in getattr(entity, "models", []))}
        for key, existing in self._entities.items():
            if isinstance(entity, Orchestrator) and isinstance(existing, Orchestrator):
                continue  # the same identifier twice: refused when both would run
            taken = {existing.name, *(m.name for m in getattr(existing, "models", []))}
            if names & taken:
                raise EntityExistsError(
                    f"an entity named {sorted(names & taken)[0]!r} already exists in experiment "
                    f"{self.name!r} ({key}): entity names must be unique"
                )
        self._entities[entity.name] = entity

    def _entity_path(self, name: object, path: str | None) -> str:
        if name is None:
            raise MissingNameError("Entity has no name. Please set name attribute.")
        if path is not None and not isinstance(path, (str, os.PathLike)):
            raise ArgumentTypeError(f"path must be a str, got {shown(path)}")
        if path is not None:
            check_text(os.fspath(path), "path")
        return os.path.abspath(path or os.path.join(self.exp_path, str(name)))

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
        """A model that runs in ``path`` (default ``<exp_path>/<name>``, made at start)."""
        model = Model(
            name, params, run_settings, self._entity_path(name, path), params_as_args,
            batch_settings, enable_key_prefixing,
        )
        self._register(model)
        return model

    def create_ensemble(
        self,
        name: str,
        params: Mapping[str, Any] | None = None,
        batch_settings: BatchSettings | None = None,
        run_settings: RunSettings | None = None,
        replicas: int | None = None,
        perm_strategy: str | Callable[..., Any] = "all_perm",
        path: str | None = None,
        **kwargs: Any,
    ) -> Ensemble:
        """Members run in ``<path>/<name>_<i>`` (default path ``<exp_path>/<name>``)."""
        ensemble = Ensemble(
            name, params, self._entity_path(name, path), batch_settings=batch_settings,
            run_settings=run_settings, perm_strat=perm_strategy, replicas=replicas, **kwargs,
        )
        self._register(ensemble)
        return ensemble

    def create_database(
        self,
        port: int = 6379,
        path: str | None = None,
        db_nodes: int = 1,
        batch: bool = False,
        hosts: str | Iterable[str] | None = None,
        run_command: str = "auto",
        interface: str | Iterable[str] = "lo",
        account: str | None = None,
        time: str | None = None,
        queue: str | None = None,
        single_cmd: bool = True,
        db_identifier: str = "orchestrator",
        **kwargs: Any,
    ) -> Orchestrator:
        """A database of ``db_nodes`` shards (1: standalone; >=3: a Redis Cluster)."""
        check_words(interface, "interface")
        if hosts is not None:
            check_words(hosts, "hosts")
        if db_identifier in self.db_identifiers:
            logger.warning(
                f"A database with the identifier {db_identifier} has already been made: an "
                "error will be raised if both are started"
            )
        orch = Orchestrator(
            path=self._entity_path(db_identifier, path), port=port, interface=interface,
            launcher=self._launcher_name, run_command=run_command, db_nodes=db_nodes,
            batch=batch, hosts=hosts, account=account, time=time, single_cmd=single_cmd,
            db_identifier=db_identifier, queue=queue, **kwargs,
        )
        self.db_identifiers.add(db_identifier)
        self._register(orch)
        return orch

    def reconnect_orchestrator(self, checkpoint: str) -> Orchestrator:
        """The running database an earlier driver started (its ``checkpoint_file``)."""
        launchers: dict[str, Launcher] = {self.launcher: self._get_launcher()}

        def launcher_for(name: str) -> Launcher:
            if name not in launchers:
                launchers[name] = make_launcher(name)
            return launchers[name]

        orch, jobs = self._databases.reconnect(os.fspath(checkpoint), launcher_for)
        for job in jobs:
            self._jobs.add(job)
        self.db_identifiers.add(orch.db_identifier)
        return orch

    # --- generation --------------------------------------------------------------
    def generate(
        self,
        *entities: Entity,
        tag: str | None = None,
        overwrite: bool = False,
        verbose: bool = False,
    ) -> None:
        """Create ``<exp_path>/<entity>/`` run directories with their files.

        Every target is checked before anything is written. A directory sscontainer did
        not make is never replaced; with ``overwrite`` one it made is replaced, and one
        with files changed since is first moved to ``.sscontainer/kept/<time>/``.
        """
        from .generation.run_dirs import generate_entities

        for kept in generate_entities(
            self.exp_path, self._check_entities(entities), tag=tag, overwrite=overwrite,
            verbose=verbose,
        ):
            logger.warning(f"kept a run directory with changed files in {kept}")

    @classmethod
    def reconnect(cls, exp_path: str) -> Experiment:
        """A new driver for an experiment an earlier one started: poll and stop its jobs."""
        exp_path = os.path.abspath(exp_path)
        name, entries = load_manifest(exp_path)
        marks, planned = manifest_extras(exp_path)
        if not entries and not planned:
            raise SSConfigError(f"the manifest in {exp_path} records no launch")
        name = name or os.path.basename(exp_path)
        launcher = entries[-1].launcher if entries else "local"
        exp = cls(name, exp_path=exp_path, launcher=launcher)
        exp._old_marks, exp._planned = marks, planned
        launchers: dict[str, Launcher] = {exp.launcher: exp._get_launcher()}
        for entry in entries:
            if entry.launcher not in launchers:
                launchers[entry.launcher] = make_launcher(entry.launcher)
            job = adopt_entry(entry, launchers[entry.launcher])
            if not job.status.is_terminal:
                job.on_end = functools.partial(exp._record_end, outputs_are_ours=False)
            exp._jobs.add(job)
        return exp

    # --- reporting ---------------------------------------------------------------
    def summary(self, style: str = "github") -> str:
        """Every run of every job: name, type, job id, run id, time, status, return code."""
        if style not in TABLE_STYLES:
            raise SSConfigError(f"summary style {style!r}: use one of {', '.join(TABLE_STYLES)}")
        return self._jobs.table(style, self._planned)

    def preview(
        self,
        *entities: Entity,
        verbosity_level: str = "info",
        output_format: str = "plain_text",
        output_filename: str | None = None,
        after: Mapping[str, Sequence[str]] | None = None,
    ) -> str:
        """Print (or write to ``output_filename``) what ``start`` would run; runs nothing.

        ``after`` maps entity names to the names they start after (the CLI's DAG).
        """
        from .preview_data import preview_experiment

        return preview_experiment(
            self, self._check_entities(entities) or list(self._entities.values()),
            verbosity_level, output_format, output_filename, after or {},
        )

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"Experiment({self.name!r}, exp_path={self.exp_path!r}, launcher={self.launcher!r})"


__all__ = ["Experiment", "SSEntity"]
