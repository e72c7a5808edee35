"""Pick the run settings class for a run command and a launcher (SmartSim's rules).

``"auto"`` follows the launcher: ``srun`` under Slurm, no run command
elsewhere. A run command sscontainer has a class for gets that class; any
other is kept as given in a plain ``RunSettings`` (its ``run_args`` passed
literally): it may exist only on the compute nodes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import ArgumentTypeError
from .mpi import MpiexecSettings, MpirunSettings, OrterunSettings
from .run import ArgValue, EnvValue, RunSettings
from .srun import SrunSettings

RUN_COMMANDS: dict[str, type[RunSettings]] = {
    "srun": SrunSettings,
    "mpirun": MpirunSettings,
    "mpiexec": MpiexecSettings,
    "orterun": OrterunSettings,
}
NO_RUN_COMMAND = ("", "none")


def settings_class_for(run_command: str | None, launcher: str) -> type[RunSettings]:
    """The class for ``run_command`` ("auto" follows the launcher)."""
    if run_command is None:
        return RunSettings
    if not isinstance(run_command, str):
        raise ArgumentTypeError(f"run_command must be a string or None, got {run_command!r}")
    command = run_command.lower()
    if command == "auto":
        return SrunSettings if launcher == "slurm" else RunSettings
    return RUN_COMMANDS.get(command, RunSettings)


def create_run_settings(
    launcher: str,
    exe: str,
    exe_args: str | Iterable[str] | None = None,
    run_command: str | None = "auto",
    run_args: Mapping[str, ArgValue] | None = None,
    env_vars: Mapping[str, EnvValue] | None = None,
    container: Any = None,
    **kwargs: Any,
) -> RunSettings:
    """A ``RunSettings`` (or subclass) for ``launcher`` (``smartsim.settings.settings``)."""
    cls = settings_class_for(run_command, launcher)
    if cls is RunSettings:
        command = run_command or ""
        if command.lower() in ("auto", *NO_RUN_COMMAND):
            command = ""
        return RunSettings(
            exe, exe_args, command, run_args, env_vars, container=container, **kwargs
        )
    return cls(exe, exe_args, run_args=run_args, env_vars=env_vars, container=container, **kwargs)
