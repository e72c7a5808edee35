"""Launcher names and how to make one (engine modules are imported lazily)."""

from __future__ import annotations

import importlib

from ..errors import SSConfigError
from .base import Launcher

# name -> "module:Class"; imported on use so a missing engine SDK costs nothing
LAUNCHERS: dict[str, str] = {
    "local": "sscontainer.launchers.local:LocalLauncher",
    "docker": "sscontainer.launchers.docker:DockerLauncher",
    "slurm": "sscontainer.launchers.slurm:SlurmLauncher",
}


def make_launcher(name: str) -> Launcher:
    if name not in LAUNCHERS:
        raise SSConfigError(f"launcher {name!r} is not known: use one of {', '.join(LAUNCHERS)}")
    module_name, class_name = LAUNCHERS[name].split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            raise SSConfigError(f"the {name!r} launcher is not available in this version") from exc
        raise
    launcher: Launcher = getattr(module, class_name)()
    return launcher
