"""Run and batch settings (``smartsim.settings``): ``from sscontainer.settings import ...``."""

from __future__ import annotations

from .batch import BatchSettings, SbatchSettings
from .containers import ContainerSettings

# run first: it loads the run-command classes (srun, mpi) that subclass RunSettings
from .run import (
    MpiexecSettings,
    MpirunSettings,
    OrterunSettings,
    RunSettings,
    SrunSettings,
    create_run_settings,
)
from .smartsim_containers import Container, Singularity

SettingsBase = RunSettings  # SmartSim's common base name; no other use here

__all__ = [
    "BatchSettings",
    "Container",
    "ContainerSettings",
    "MpiexecSettings",
    "MpirunSettings",
    "OrterunSettings",
    "RunSettings",
    "SbatchSettings",
    "SettingsBase",
    "Singularity",
    "SrunSettings",
    "create_run_settings",
]
