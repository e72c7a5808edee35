"""Run settings: how an entity's executable is launched (exe, args, run command).

A ``RunSettings`` builds the launch argv as a list: run command + its options +
exe + exe args. Subclasses know the option syntax of ``srun``, ``mpirun`` and
``mpiexec``; the plain class runs the executable directly.
"""

from __future__ import annotations

import copy
import os
import shlex
import shutil
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import ExecutableNotFoundError, SSConfigError

ArgValue = str | int | float | None


def _as_arg_list(args: str | Iterable[str] | None, what: str) -> list[str]:
    if args is None:
        return []
    if isinstance(args, str):
        try:
            return shlex.split(args)
        except ValueError as exc:
            raise SSConfigError(f"{what} {args!r} cannot be split: {exc}; pass a list") from exc
    out = list(args)
    for arg in out:
        if not isinstance(arg, str):
            raise SSConfigError(
                f"{what} must be strings, got {type(arg).__name__} {arg!r}: quote it as a string"
            )
    return out


def check_positive(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SSConfigError(f"{what} must be a positive integer, got {value!r}")
    return value


def check_walltime(walltime: str, what: str) -> str:
    parts = walltime.split(":") if isinstance(walltime, str) else []
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise SSConfigError(f"{what} must be 'HH:MM:SS', got {walltime!r}")
    return walltime


def resolve_exe(exe: str, in_container: bool = False) -> str:
    """Absolute path of ``exe`` (searched on PATH when it has no slash).

    Inside a container the executable lives in the image, so it is kept as given.
    """
    if not isinstance(exe, str) or not exe.strip():
        raise ExecutableNotFoundError("exe is empty: give the program to run, e.g. exe='python'")
    if in_container:
        return exe
    if os.sep in exe:
        path = os.path.abspath(os.path.expanduser(exe))
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            raise ExecutableNotFoundError(
                f"executable {exe!r} does not exist or is not executable: check the path"
            )
        return path
    found = shutil.which(exe)
    if found is None:
        raise ExecutableNotFoundError(
            f"executable {exe!r} was not found on PATH: install it or give its full path"
        )
    return found


class RunSettings:
    """Launch an executable directly (the local launcher's default)."""

    run_command: str | None = None

    def __init__(
        self,
        exe: str,
        exe_args: str | Iterable[str] | None = None,
        run_command: str | None = None,
        run_args: Mapping[str, ArgValue] | None = None,
        env_vars: Mapping[str, str] | None = None,
        container: Any = None,
    ) -> None:
        self.container = container
        self.exe = resolve_exe(exe, in_container=container is not None)
        # as given, for a container: a path resolved on this host means nothing in an image
        self._exe_given = (exe, self.exe)
        self.exe_args = _as_arg_list(exe_args, "exe_args")
        if run_command is not None:
            self.run_command = run_command
        self.run_args: dict[str, ArgValue] = {}
        for key, value in (run_args or {}).items():
            self.set(key, value)
        self.env_vars: dict[str, str] = {}
        self.update_env(dict(env_vars or {}))
        self._nodes: int | None = None
        self._tasks: int | None = None
        self._tasks_per_node: int | None = None
        self._cpus_per_task: int | None = None
        self._walltime: str | None = None
        self._hostlist: list[str] = []
        self._gpus = 0

    # --- resources -----------------------------------------------------------
    def set_nodes(self, nodes: int) -> None:
        self._nodes = check_positive(nodes, "nodes")

    def set_tasks(self, tasks: int) -> None:
        self._tasks = check_positive(tasks, "tasks")

    def set_tasks_per_node(self, tasks_per_node: int) -> None:
        self._tasks_per_node = check_positive(tasks_per_node, "tasks_per_node")

    def set_cpus_per_task(self, cpus_per_task: int) -> None:
        self._cpus_per_task = check_positive(cpus_per_task, "cpus_per_task")

    def set_walltime(self, walltime: str) -> None:
        self._walltime = check_walltime(walltime, "walltime")

    def set_hostlist(self, host_list: str | Iterable[str]) -> None:
        hosts = [host_list] if isinstance(host_list, str) else list(host_list)
        if not hosts or not all(isinstance(h, str) and h.strip() for h in hosts):
            raise SSConfigError(f"host_list must be non-empty host names, got {host_list!r}")
        self._hostlist = hosts

    def set_gpus(self, gpus: int) -> None:
        """GPUs per task (srun ``--gpus-per-task``; device requests under Docker)."""
        if isinstance(gpus, bool) or not isinstance(gpus, int) or gpus < 0:
            raise SSConfigError(f"gpus must be a non-negative integer, got {gpus!r}")
        self._gpus = gpus

    @property
    def gpus(self) -> int:
        return self._gpus

    @property
    def nodes(self) -> int | None:
        return self._nodes

    @property
    def tasks(self) -> int | None:
        return self._tasks

    @property
    def tasks_per_node(self) -> int | None:
        return self._tasks_per_node

    @property
    def cpus_per_task(self) -> int | None:
        return self._cpus_per_task

    @property
    def walltime(self) -> str | None:
        return self._walltime

    @property
    def hostlist(self) -> list[str]:
        return list(self._hostlist)

    # --- arguments and environment ---------------------------------------------
    def update_env(self, env_vars: Mapping[str, Any]) -> None:
        for key, value in env_vars.items():
            if not isinstance(key, str) or not key or "=" in key or "\0" in key:
                raise SSConfigError(f"environment variable name {key!r} is not valid")
            if not isinstance(value, (str, int, float)) or isinstance(value, bool):
                raise SSConfigError(
                    f"environment variable {key} must be a string or number, got {value!r}"
                )
            self.env_vars[key] = str(value)

    def add_exe_args(self, args: str | Iterable[str]) -> None:
        self.exe_args.extend(_as_arg_list(args, "exe_args"))

    def set(self, arg: str, value: ArgValue = None, condition: bool = True) -> None:
        """Set a run command option (``value=None`` for a flag)."""
        if not isinstance(arg, str) or not arg or arg.startswith("-") or any(
            c.isspace() for c in arg
        ):
            raise SSConfigError(
                f"run argument name {arg!r} is not valid: give it without leading dashes"
            )
        if condition:
            self.run_args[arg] = value

    def format_run_args(self) -> list[str]:
        """Options for the run command (none for a plain executable)."""
        return []

    def launch_argv(self, wrapper: Iterable[str] = (), in_container: bool = False) -> list[str]:
        """The complete argv: run command and options, ``wrapper``, then exe and args.

        ``wrapper`` goes between the run command and the executable, so every
        rank runs it (the colocated database supervisor, for instance).
        ``in_container``: the exe as the user gave it (``python3``), not the path
        it was resolved to on this host, which the image does not have.
        """
        prefix = [self.run_command, *self.format_run_args()] if self.run_command else []
        exe = self.exe
        given, resolved = getattr(self, "_exe_given", (exe, exe))
        if in_container and exe == resolved:
            exe = given
        return [*prefix, *wrapper, exe, *self.exe_args]

    def copy(self) -> RunSettings:
        return copy.deepcopy(self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({shlex.join(self.launch_argv())})"


def _long_opt(name: str, value: ArgValue, sep: str = "=") -> list[str]:
    flag = "--" + name if len(name) > 1 else "-" + name
    if value is None:
        return [flag]
    if sep == "=" and flag.startswith("--"):
        return [f"{flag}={value}"]
    return [flag, str(value)]


class SrunSettings(RunSettings):
    """Launch with Slurm's ``srun``."""

    run_command: str | None = "srun"

    def format_run_args(self) -> list[str]:
        args: list[str] = []
        if self.nodes is not None:
            args.append(f"--nodes={self.nodes}")
        if self.tasks is not None:
            args.append(f"--ntasks={self.tasks}")
        if self.tasks_per_node is not None:
            args.append(f"--ntasks-per-node={self.tasks_per_node}")
        if self.cpus_per_task is not None:
            args.append(f"--cpus-per-task={self.cpus_per_task}")
        if self.walltime is not None:
            args.append(f"--time={self.walltime}")
        if self.hostlist:
            args.append(f"--nodelist={','.join(self.hostlist)}")
        if self.gpus:
            args.append(f"--gpus-per-task={self.gpus}")
        for key, value in self.run_args.items():
            args.extend(_long_opt(key, value))
        return args


class _MpiSettings(RunSettings):
    """Common option syntax of ``mpirun`` and ``mpiexec`` (Open MPI / MPICH)."""

    def format_run_args(self) -> list[str]:
        args: list[str] = []
        tasks = self.tasks
        if tasks is None and self.nodes is not None and self.tasks_per_node is not None:
            tasks = self.nodes * self.tasks_per_node
        if tasks is not None:
            args += ["-n", str(tasks)]
        if self.tasks_per_node is not None:
            args += ["--map-by", f"ppr:{self.tasks_per_node}:node"]
        if self.cpus_per_task is not None:
            args += ["--cpus-per-proc", str(self.cpus_per_task)]
        if self.hostlist:
            args += ["--host", ",".join(self.hostlist)]
        for key, value in self.run_args.items():
            args.extend(_long_opt(key, value, sep=" "))
        return args


class MpirunSettings(_MpiSettings):
    run_command: str | None = "mpirun"


class MpiexecSettings(_MpiSettings):
    run_command: str | None = "mpiexec"


RUN_COMMANDS: dict[str, type[RunSettings]] = {
    "srun": SrunSettings,
    "mpirun": MpirunSettings,
    "mpiexec": MpiexecSettings,
}


def settings_class_for(run_command: str | None, launcher: str) -> type[RunSettings]:
    """Pick the settings class for ``run_command`` ("auto" follows the launcher)."""
    if run_command == "auto":
        return SrunSettings if launcher == "slurm" else RunSettings
    if run_command in (None, "", "none"):
        return RunSettings
    if run_command not in RUN_COMMANDS:
        raise SSConfigError(
            f"run_command {run_command!r} is not supported: use one of "
            f"{', '.join(['auto', *RUN_COMMANDS])} or None"
        )
    return RUN_COMMANDS[run_command]
