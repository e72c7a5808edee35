"""``mpirun`` / ``mpiexec`` / ``orterun`` settings (MPI-standard option syntax).

Options are formatted ``--name value``. The run command must be on PATH when
the settings are made (``fail_if_missing_exec=False`` turns that into a
warning), and Slurm's ``mpiexec`` wrapper is refused: use ``SrunSettings``.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import LauncherError, SSConfigError, SSUnsupportedError
from .checks import check_host_list, check_positive
from .run import ArgValue, EnvValue, RunSettings, logger


class _BaseMPISettings(RunSettings):
    """What ``mpirun``, ``mpiexec`` and ``orterun`` share."""

    reserved_run_args = frozenset({"wd", "wdir"})
    resource_args = {
        "tasks": "n",
        "tasks_per_node": "npernode",
        "cpus_per_task": "cpus-per-proc",
        "walltime": "timeout",
        "hostlist": "host",
    }

    def __init__(
        self,
        exe: str,
        exe_args: str | Iterable[str] | None = None,
        run_command: str = "mpiexec",
        run_args: Mapping[str, ArgValue] | None = None,
        env_vars: Mapping[str, EnvValue] | None = None,
        fail_if_missing_exec: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            exe, exe_args, run_command=run_command, run_args=run_args, env_vars=env_vars, **kwargs
        )
        self.affinity_script: list[str] = []
        if not shutil.which(self._run_command):
            message = (
                f"Cannot find {self._run_command}: install MPI, or pass the full path "
                "via run_command"
            )
            if fail_if_missing_exec:
                raise LauncherError(message)
            logger.warning(message)

    def make_mpmd(self, settings: RunSettings) -> None:
        """Run ``settings`` in the same command (``mpirun A : B``)."""
        if self.colocated_db_settings:
            raise SSUnsupportedError("Colocated models cannot be run as a mpmd workload")
        self.mpmd.append(settings)

    def set_task_map(self, task_mapping: str) -> None:
        self.run_args["map-by"] = task_mapping

    def set_cpus_per_task(self, cpus_per_task: int) -> None:
        self.run_args["cpus-per-proc"] = check_positive(cpus_per_task, "cpus_per_task")

    def set_cpu_binding_type(self, bind_type: str) -> None:
        self.run_args["bind-to"] = bind_type

    def set_tasks_per_node(self, tasks_per_node: int) -> None:
        self.run_args["npernode"] = check_positive(tasks_per_node, "tasks_per_node")

    def set_tasks(self, tasks: int) -> None:
        self.run_args["n"] = check_positive(tasks, "tasks")

    def set_hostlist(self, host_list: str | list[str]) -> None:
        self.run_args["host"] = ",".join(check_host_list(host_list))

    def set_hostlist_from_file(self, file_path: str) -> None:
        self.run_args["hostfile"] = file_path

    def set_verbose_launch(self, verbose: bool) -> None:
        self._set_flag("verbose", verbose)

    def set_quiet_launch(self, quiet: bool) -> None:
        self._set_flag("quiet", quiet)

    def set_broadcast(self, dest_path: str | None = None) -> None:
        """``--preload-binary`` (MPI picks the destination; ``dest_path`` is ignored)."""
        if isinstance(dest_path, str):
            logger.warning(
                f"{type(self).__name__} cannot set a destination path during broadcast; "
                "using the session directory instead"
            )
        self.run_args["preload-binary"] = None

    def set_walltime(self, walltime: str) -> None:
        """``--timeout <seconds>``."""
        if not str(walltime).isdigit():
            raise SSConfigError(f"{type(self).__name__} walltime is in seconds, got {walltime!r}")
        self.run_args["timeout"] = str(walltime)

    def format_run_args(self) -> list[str]:
        args: list[str] = []
        for opt, value in self.run_args.items():
            if opt in self.reserved_run_args:
                continue
            args += [f"--{opt}"] if value is None or value == "" else [f"--{opt}", str(value)]
        return args

    def format_env_vars(self) -> list[str]:
        """``-x NAME=VALUE`` (``-x NAME`` exports the launching environment's value)."""
        formatted: list[str] = []
        for name, value in self.env_vars.items():
            formatted += ["-x", f"{name}={value}" if value else name]
        return formatted


class MpirunSettings(_BaseMPISettings):
    def __init__(
        self,
        exe: str,
        exe_args: str | Iterable[str] | None = None,
        run_args: Mapping[str, ArgValue] | None = None,
        env_vars: Mapping[str, EnvValue] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(exe, exe_args, "mpirun", run_args, env_vars, **kwargs)


class MpiexecSettings(_BaseMPISettings):
    def __init__(
        self,
        exe: str,
        exe_args: str | Iterable[str] | None = None,
        run_args: Mapping[str, ArgValue] | None = None,
        env_vars: Mapping[str, EnvValue] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(exe, exe_args, "mpiexec", run_args, env_vars, **kwargs)
        if is_slurm_mpiexec(self._run_command):
            raise SSUnsupportedError(
                "Slurm's wrapper for mpiexec is unsupported: use SrunSettings "
                "(run_command='srun') instead"
            )


class OrterunSettings(_BaseMPISettings):
    def __init__(
        self,
        exe: str,
        exe_args: str | Iterable[str] | None = None,
        run_args: Mapping[str, ArgValue] | None = None,
        env_vars: Mapping[str, EnvValue] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(exe, exe_args, "orterun", run_args, env_vars, **kwargs)


def is_slurm_mpiexec(command: str) -> bool:
    """True when ``command --help`` says it is Slurm's ``mpiexec.slurm`` wrapper."""
    path = shutil.which(command)
    if path is None:
        return False
    try:
        done = subprocess.run(  # noqa: S603 - an argv list, no shell
            [path, "--help"], capture_output=True, check=False, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "mpiexec.slurm" in done.stdout.decode(errors="replace")
