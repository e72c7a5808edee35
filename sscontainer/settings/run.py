"""Run settings: how an entity's executable is launched (SmartSim's ``RunSettings`` API).

A ``RunSettings`` holds the executable, its arguments, a run command (``srun``,
``mpirun`` ...) and that command's options in ``run_args``. The launch argv is
run command + formatted run args + exe + exe args, as an argument list. This
class runs the executable directly and passes ``run_args`` literally, as
SmartSim's does; ``srun.py`` and ``mpi.py`` hold the classes that know their
run command's option syntax, and whose resource setters write ``run_args``.
"""

from __future__ import annotations

import copy
import os
import shlex
import shutil
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import ArgumentTypeError, SSConfigError
from ..launchers.step import Resources
from ..log import get_logger
from .checks import (  # noqa: F401 - check_* are imported from here by other modules
    as_arg_list,
    check_env,
    check_host_list,
    check_positive,
    check_walltime,
    resolve_exe,
)

_as_arg_list = as_arg_list  # the name other modules imported before

ArgValue = str | int | float | None
EnvValue = str | int | float | None

logger = get_logger("sscontainer.settings")

# SmartSim keyword arguments a settings class may receive and not use
IGNORED_SMARTSIM_KWARGS = frozenset({"alloc", "fail_if_missing_exec"})


class RunSettings:
    """Launch an executable, directly or through a run command taken literally."""

    # options a user may not set: the launcher sets them (SmartSim's reserved_run_args)
    reserved_run_args: frozenset[str] = frozenset()
    # resource -> the run_args key that holds it, for subclasses whose run command has one
    resource_args: Mapping[str, str] = {}

    def __init__(
        self,
        exe: str,
        exe_args: str | Iterable[str] | None = None,
        run_command: str | None = "",
        run_args: Mapping[str, ArgValue] | None = None,
        env_vars: Mapping[str, EnvValue] | None = None,
        container: Any = None,
        **kwargs: Any,
    ) -> None:
        unknown = sorted(set(kwargs) - IGNORED_SMARTSIM_KWARGS)
        if unknown:
            raise ArgumentTypeError(
                f"{type(self).__name__} got unknown keyword arguments {unknown}"
            )
        if run_command is not None and not isinstance(run_command, str):
            raise ArgumentTypeError(f"run_command must be a string, got {run_command!r}")
        self.container = container
        self.exe = [resolve_exe(exe, in_container=container is not None)]
        # as given, for a container: a path resolved on this host means nothing in an image
        self._exe_given = (exe, self.exe[0])
        self.exe_args = exe_args  # the setter checks and copies
        self._run_command = run_command or ""
        self.run_args = dict(run_args or {})
        self.env_vars = dict(env_vars or {})
        self.in_batch = False
        self.colocated_db_settings: dict[str, Any] | None = None
        self.mpmd: list[RunSettings] = []
        self._gpus = 0

    # --- SmartSim's properties: assignments are checked and copied ------------------
    @property
    def exe_args(self) -> list[str]:
        return self._exe_args

    @exe_args.setter
    def exe_args(self, value: str | Iterable[str] | None) -> None:
        self._exe_args = as_arg_list(value, "exe_args")

    @property
    def run_args(self) -> dict[str, ArgValue]:
        return self._run_args

    @run_args.setter
    def run_args(self, value: Mapping[str, ArgValue]) -> None:
        if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
            raise ArgumentTypeError(f"run_args must be a dict with string keys, got {value!r}")
        for key, arg in value.items():
            if arg is not None and not isinstance(arg, (str, int, float)):
                raise ArgumentTypeError(f"run argument {key}: value {arg!r} is not a string")
        self._run_args = copy.deepcopy(dict(value))

    @property
    def env_vars(self) -> dict[str, str | None]:
        return self._env_vars

    @env_vars.setter
    def env_vars(self, value: Mapping[str, EnvValue]) -> None:
        self._env_vars = check_env(value, allow_none=True)

    @property
    def run_command(self) -> str | None:
        """The run command, as a full path when it is on PATH here (None: no run command)."""
        if not self._run_command:
            return None
        found = shutil.which(self._run_command)
        return os.path.abspath(found) if found else self._run_command

    # --- resources: a run command's subclass stores them in run_args ------------------
    def _set_flag(self, name: str, on: bool) -> None:
        """A run argument without a value (``--verbose``), present or removed."""
        if on:
            self.run_args[name] = None
        else:
            self.run_args.pop(name, None)

    def _not_implemented(self, what: str) -> None:
        logger.warning(f"{what} specification not implemented for this RunSettings type: "
                       f"{type(self).__name__} (use a run command such as srun or mpirun)")

    def set_nodes(self, nodes: int) -> None:
        self._not_implemented("Node")

    def set_tasks(self, tasks: int) -> None:
        self._not_implemented("Task")

    def set_tasks_per_node(self, tasks_per_node: int) -> None:
        self._not_implemented("Task per node")

    def set_task_map(self, task_mapping: str) -> None:
        self._not_implemented("Task mapping")

    def set_cpus_per_task(self, cpus_per_task: int) -> None:
        self._not_implemented("CPU per node")

    def set_hostlist(self, host_list: str | list[str]) -> None:
        self._not_implemented("Hostlist")

    def set_hostlist_from_file(self, file_path: str) -> None:
        self._not_implemented("Hostlist from file")

    def set_excluded_hosts(self, host_list: str | list[str]) -> None:
        self._not_implemented("Excluded host list")

    def set_cpu_bindings(self, bindings: int | list[int]) -> None:
        self._not_implemented("CPU binding")

    def set_memory_per_node(self, memory_per_node: int) -> None:
        self._not_implemented("Memory per node")

    def set_verbose_launch(self, verbose: bool) -> None:
        self._not_implemented("Verbose")

    def set_quiet_launch(self, quiet: bool) -> None:
        self._not_implemented("Quiet")

    def set_broadcast(self, dest_path: str | None = None) -> None:
        self._not_implemented("Broadcast")

    def set_node_feature(self, feature_list: str | list[str]) -> None:
        self._not_implemented("Feature")

    def set_walltime(self, walltime: str) -> None:
        self._not_implemented("Walltime")

    def set_binding(self, binding: str) -> None:
        self._not_implemented("binding")

    def set_mpmd_preamble(self, preamble_lines: list[str]) -> None:
        self._not_implemented("MPMD preamble")

    def make_mpmd(self, settings: RunSettings) -> None:
        self._not_implemented("Make MPMD")

    def set_time(self, hours: int = 0, minutes: int = 0, seconds: int = 0) -> None:
        """Walltime from hours, minutes and seconds, in the run command's format."""
        try:
            parts = int(hours), int(minutes), int(seconds)
        except (TypeError, ValueError):
            raise SSConfigError(
                f"set_time takes whole numbers, got {hours!r}, {minutes!r}, {seconds!r}"
            ) from None
        self.set_walltime(self._fmt_walltime(*parts))

    @staticmethod
    def _fmt_walltime(hours: int, minutes: int, seconds: int) -> str:
        return str(hours * 3600 + minutes * 60 + seconds)

    def set_gpus(self, gpus: int) -> None:
        """GPUs per task (srun ``--gpus-per-task``; device requests under Docker)."""
        if isinstance(gpus, bool) or not isinstance(gpus, int) or gpus < 0:
            raise SSConfigError(f"gpus must be a non-negative integer, got {gpus!r}")
        self._gpus = gpus

    def _resource(self, what: str) -> ArgValue:
        key = self.resource_args.get(what)
        return self.run_args.get(key) if key else None

    def _int_resource(self, what: str) -> int | None:
        value = self._resource(what)
        return int(value) if isinstance(value, (int, str)) and str(value).isdigit() else None

    @property
    def gpus(self) -> int:
        return self._gpus

    @property
    def nodes(self) -> int | None:
        return self._int_resource("nodes")

    @property
    def tasks(self) -> int | None:
        return self._int_resource("tasks")

    @property
    def tasks_per_node(self) -> int | None:
        return self._int_resource("tasks_per_node")

    @property
    def cpus_per_task(self) -> int | None:
        return self._int_resource("cpus_per_task")

    @property
    def walltime(self) -> str | None:
        """The walltime as HH:MM:SS (what a batch script asks the scheduler for)."""
        value = self._resource("walltime")
        if value is None:
            return None
        text = str(value)
        if text.isdigit():  # seconds (mpirun --timeout)
            total = int(text)
            return f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"
        return text

    @property
    def hostlist(self) -> list[str]:
        value = self._resource("hostlist")
        return str(value).split(",") if value else []

    def resources(self) -> Resources:
        """What a workload manager should allocate for these settings."""
        return Resources(
            nodes=self.nodes,
            ntasks=self.tasks,
            tasks_per_node=self.tasks_per_node,
            cpus_per_task=self.cpus_per_task,
            walltime=self.walltime,
            gpus=self.gpus,
            hostlist=tuple(self.hostlist),
        )

    # --- arguments and environment ---------------------------------------------
    def update_env(self, env_vars: Mapping[str, str | int | float | bool]) -> None:
        """Add or replace environment variables (values become strings)."""
        for key, value in check_env(env_vars, allow_none=False).items():
            self._env_vars[key] = value

    def add_exe_args(self, args: str | Iterable[str]) -> None:
        self._exe_args.extend(as_arg_list(args, "exe_args"))

    def set(self, arg: str, value: str | None = None, condition: bool = True) -> None:
        """Set a run command option; leading dashes and spaces are stripped (``--a`` is ``a``).

        ``value=None`` makes a flag. A reserved option is not set (a warning
        says so); with ``condition`` false nothing is set.
        """
        if not isinstance(arg, str):
            raise ArgumentTypeError(f"run argument name must be a string, got {arg!r}")
        if value is not None and not isinstance(value, str):
            raise ArgumentTypeError(
                f"run argument {arg}: value must be a string or None, got {value!r}"
            )
        name = arg.strip().lstrip("-")
        if not name or any(c.isspace() for c in name):
            raise SSConfigError(f"run argument name {arg!r} is not valid: give one word")
        if not condition:
            logger.info(f"Could not set argument '{name}': condition not met")
            return
        if name in self.reserved_run_args:
            logger.warning(
                f"Could not set argument '{name}': it is a reserved argument of "
                f"'{type(self).__name__}' (the launcher sets it)"
            )
            return
        if name in self.run_args and value != self.run_args[name]:
            logger.warning(f"Overwriting argument '{name}' with value '{value}'")
        self.run_args[name] = value

    def format_run_args(self) -> list[str]:
        """Run command options; this class passes ``run_args`` literally (name, value)."""
        formatted: list[str] = []
        for arg, value in self.run_args.items():
            if arg not in self.reserved_run_args:
                formatted += [arg, str(value)]
        return formatted

    def format_env_vars(self) -> list[str]:
        return [f"{key}={'' if value is None else value}" for key, value in self.env_vars.items()]

    def _exe_for(self, in_container: bool) -> str:
        given, resolved = getattr(self, "_exe_given", (self.exe[0], self.exe[0]))
        return given if in_container and self.exe[0] == resolved else self.exe[0]

    def container_argv(self, cwd: str = "") -> list[str]:
        """The container command put before the executable (SmartSim's ``Container``)."""
        argv = getattr(self.container, "container_argv", None)
        return list(argv(cwd)) if callable(argv) else []

    def launch_argv(
        self, wrapper: Iterable[str] = (), cwd: str = "", in_container: bool = False
    ) -> list[str]:
        """The complete argv: run command and options, ``wrapper``, then exe and args.

        ``wrapper`` goes between the run command and the executable, so every
        rank runs it (the colocated database supervisor, for instance). MPMD
        parts follow, each after a ``:``. ``cwd`` is the run directory (a
        SmartSim ``Singularity`` container binds it). ``in_container``: the exe as
        the user gave it (``python3``), not the path it was resolved to on this
        host, which the image does not have.
        """
        run_command = self.run_command
        argv = [run_command, *self.format_run_args()] if run_command else []
        argv += [*self.container_argv(cwd), *wrapper, self._exe_for(in_container),
                 *self.exe_args]
        for part in self.mpmd:
            argv += [":", *part.format_run_args(), part._exe_for(in_container), *part.exe_args]
        return argv

    def copy(self) -> RunSettings:
        return copy.deepcopy(self)

    def __str__(self) -> str:
        text = f"Executable: {self.exe[0]}\nExecutable Arguments: {' '.join(self.exe_args)}"
        if self.run_command:
            text += f"\nRun Command: {self.run_command}"
        if self.run_args:
            args = "\n".join(f"\t{key} = {value}" for key, value in self.run_args.items())
            text += f"\nRun Arguments:\n{args}"
        if self.colocated_db_settings:
            text += "\nCo-located Database: True"
        return text

    def __repr__(self) -> str:
        return f"{type(self).__name__}({shlex.join(self.launch_argv())})"


def long_opt(name: str, value: ArgValue, sep: str = "=") -> list[str]:
    """``--name=value`` (``-n value`` for one letter); ``None`` or ``""`` makes a flag."""
    flag = "--" + name if len(name) > 1 else "-" + name
    if value is None or value == "":
        return [flag]
    if sep == "=" and flag.startswith("--"):
        return [f"{flag}={value}"]
    return [flag, str(value)]


_long_opt = long_opt  # the name batch.py imported before


# the run-command classes live beside this one; imported last, they subclass RunSettings
from .factory import RUN_COMMANDS, create_run_settings, settings_class_for  # noqa: E402
from .mpi import (  # noqa: E402
    MpiexecSettings,
    MpirunSettings,
    OrterunSettings,
    _BaseMPISettings,
)
from .srun import SrunSettings  # noqa: E402

__all__ = [
    "ArgValue",
    "MpiexecSettings",
    "MpirunSettings",
    "OrterunSettings",
    "RUN_COMMANDS",
    "RunSettings",
    "SrunSettings",
    "_BaseMPISettings",
    "as_arg_list",
    "check_env",
    "check_host_list",
    "check_positive",
    "check_walltime",
    "create_run_settings",
    "resolve_exe",
    "settings_class_for",
]
