"""sscontainer: SmartSim-style HPC/AI workflows, deployed in containers."""

from __future__ import annotations

from .client import Client, Dataset
from .entities.ensemble import Ensemble
from .entities.model import Model
from .entities.orchestrator import Orchestrator
from .errors import (
    BuildError,
    ClientError,
    DatabaseError,
    EntityExistsError,
    GenerationError,
    InvalidNameError,
    LauncherError,
    SSConfigError,
    SSContainerError,
    SSUnsupportedError,
)
from .experiment import Experiment
from .settings.batch import BatchSettings, SbatchSettings
from .settings.run import MpiexecSettings, MpirunSettings, RunSettings, SrunSettings
from .status import Status
from .version import __version__

__all__ = [
    "BatchSettings",
    "BuildError",
    "Client",
    "ClientError",
    "DatabaseError",
    "Dataset",
    "Ensemble",
    "EntityExistsError",
    "Experiment",
    "GenerationError",
    "InvalidNameError",
    "LauncherError",
    "Model",
    "MpiexecSettings",
    "MpirunSettings",
    "Orchestrator",
    "RunSettings",
    "SSConfigError",
    "SSContainerError",
    "SSUnsupportedError",
    "SbatchSettings",
    "SrunSettings",
    "Status",
    "__version__",
]
