"""``SrunSettings``: launch with Slurm's ``srun``; every setter writes an ``srun`` option."""

from __future__ import annotations

import datetime
import os
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import ArgumentTypeError, SSConfigError, SSUnsupportedError
from .checks import check_host_list, check_positive
from .run import ArgValue, EnvValue, RunSettings, logger


def fmt_walltime(hours: int, minutes: int, seconds: int) -> str:
    """HH:MM:SS (hours may exceed 24: Slurm reads ``30:00:00``)."""
    total = int(datetime.timedelta(hours=hours, minutes=minutes, seconds=seconds).total_seconds())
    return f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"


class SrunSettings(RunSettings):
    """Options are formatted ``--name=value`` (``-C value`` for one letter)."""

    reserved_run_args = frozenset({"chdir", "D"})
    resource_args = {
        "nodes": "nodes",
        "tasks": "ntasks",
        "tasks_per_node": "ntasks-per-node",
        "cpus_per_task": "cpus-per-task",
        "walltime": "time",
        "hostlist": "nodelist",
    }

    def __init__(
        self,
        exe: str,
        exe_args: str | Iterable[str] | None = None,
        run_args: Mapping[str, ArgValue] | None = None,
        env_vars: Mapping[str, EnvValue] | None = None,
        alloc: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            exe, exe_args, run_command="srun", run_args=run_args, env_vars=env_vars, **kwargs
        )
        self.alloc = alloc

    def set_nodes(self, nodes: int) -> None:
        self.run_args["nodes"] = check_positive(nodes, "nodes")

    def set_tasks(self, tasks: int) -> None:
        self.run_args["ntasks"] = check_positive(tasks, "tasks")

    def set_tasks_per_node(self, tasks_per_node: int) -> None:
        self.run_args["ntasks-per-node"] = check_positive(tasks_per_node, "tasks_per_node")

    def set_cpus_per_task(self, cpus_per_task: int) -> None:
        self.run_args["cpus-per-task"] = check_positive(cpus_per_task, "cpus_per_task")

    def set_hostlist(self, host_list: str | list[str]) -> None:
        self.run_args["nodelist"] = ",".join(check_host_list(host_list))

    def set_hostlist_from_file(self, file_path: str) -> None:
        self.run_args["nodefile"] = file_path

    def set_excluded_hosts(self, host_list: str | list[str]) -> None:
        self.run_args["exclude"] = ",".join(check_host_list(host_list))

    def set_cpu_bindings(self, bindings: int | list[int]) -> None:
        """``--cpu_bind=map_cpu:<list>``: one core per task."""
        cores = [bindings] if isinstance(bindings, int) else list(bindings)
        try:
            text = ",".join(str(int(core)) for core in cores)
        except (TypeError, ValueError):
            raise SSConfigError(f"cpu bindings must be core numbers, got {bindings!r}") from None
        self.run_args["cpu_bind"] = "map_cpu:" + text

    def set_memory_per_node(self, memory_per_node: int) -> None:
        """``--mem=<N>M`` (megabytes)."""
        self.run_args["mem"] = f"{check_positive(memory_per_node, 'memory_per_node')}M"

    def set_verbose_launch(self, verbose: bool) -> None:
        self._set_flag("verbose", verbose)

    def set_quiet_launch(self, quiet: bool) -> None:
        self._set_flag("quiet", quiet)

    def set_broadcast(self, dest_path: str | None = None) -> None:
        """``--bcast[=dest_path]``: copy the executable to the allocated nodes first."""
        self.run_args["bcast"] = dest_path

    def set_node_feature(self, feature_list: str | list[str]) -> None:
        """``-C <features>``."""
        if isinstance(feature_list, str):
            features = [feature_list.strip()]
        elif isinstance(feature_list, list) and all(isinstance(f, str) for f in feature_list):
            features = feature_list
        else:
            raise ArgumentTypeError(
                f"node features must be a string or a list of strings, got {feature_list!r}"
            )
        self.run_args["C"] = ",".join(features)

    def set_walltime(self, walltime: str) -> None:
        self.run_args["time"] = str(walltime)

    @staticmethod
    def _fmt_walltime(hours: int, minutes: int, seconds: int) -> str:
        return fmt_walltime(hours, minutes, seconds)

    def set_gpus(self, gpus: int) -> None:
        super().set_gpus(gpus)
        if gpus:
            self.run_args["gpus-per-task"] = gpus
        else:
            self.run_args.pop("gpus-per-task", None)

    def set_het_group(self, het_group: Iterable[int]) -> None:
        """``--het-group``: only inside a heterogeneous allocation (``SLURM_HET_SIZE``)."""
        size = os.getenv("SLURM_HET_SIZE")
        if size is None:
            raise SSConfigError("set_het_group needs a heterogeneous allocation (SLURM_HET_SIZE)")
        groups = list(het_group)
        if self.mpmd:
            raise SSConfigError("Slurm does not run MPMD workloads in heterogeneous jobs")
        if any(group >= int(size) for group in groups):
            raise SSConfigError(
                f"het group {max(groups)} asked for; the largest is {int(size) - 1}"
            )
        self.run_args["het-group"] = ",".join(str(group) for group in groups)

    def make_mpmd(self, settings: RunSettings) -> None:
        """Run ``settings`` in the same ``srun`` (``srun A : B``)."""
        if self.colocated_db_settings:
            raise SSUnsupportedError("Colocated models cannot be run as a mpmd workload")
        if self.container:
            raise SSUnsupportedError("Containerized MPMD workloads are not yet supported.")
        if os.getenv("SLURM_HET_SIZE") is not None:
            raise SSConfigError("Slurm does not support MPMD workloads in heterogeneous jobs.")
        self.mpmd.append(settings)

    def format_run_args(self) -> list[str]:
        opts: list[str] = []
        for opt, value in self.run_args.items():
            if opt in self.reserved_run_args:
                continue
            short = len(opt) == 1
            flag = ("-" if short else "--") + opt
            if value is None or value == "":
                opts.append(flag)
            elif short:
                opts += [flag, str(value)]
            else:
                opts.append(f"{flag}={value}")
        return opts

    def check_env_vars(self) -> None:
        """Warn about a variable already set here: inside an allocation it would win."""
        for key, value in self.env_vars.items():
            if "," not in str(value):
                existing = os.environ.get(key)
                if existing is not None and existing != value:
                    logger.warning(
                        f"Variable {key} is set to {existing} in current environment. If the "
                        f"job is running in an interactive allocation, the value {value} will "
                        "not be set. Please consider removing the variable from the "
                        "environment and re-running the experiment."
                    )

    def format_env_vars(self) -> list[str]:
        """``KEY=VALUE`` for ``env``; values with commas are left to ``--export`` lists."""
        self.check_env_vars()
        return [f"{k}={v}" for k, v in self.env_vars.items() if "," not in str(v)]

    def format_comma_sep_env_vars(self) -> tuple[str, list[str]]:
        """``(--export list, compound KEY=VALUE pairs)``: srun's export list splits on commas,
        so a value holding one is exported by name and set beforehand."""
        self.check_env_vars()
        plain: list[str] = []
        compound: list[str] = []
        names_only: list[str] = []
        for key, value in self.env_vars.items():
            pair = f"{key}={'' if value is None else value}"
            if "," in str(value):
                names_only.append(key)
                compound.append(pair)
            else:
                plain.append(pair)
        for part in self.mpmd:
            compound += [f"{k}={v}" for k, v in part.env_vars.items() if "," in str(v)]
        return ",".join(plain + names_only), compound
