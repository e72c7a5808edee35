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
    SmartSimError,
    SSConfigError,
    SSContainerError,
    SSUnsupportedError,
)
from .experiment import Experiment
from .settings import (
    BatchSettings,
    Container,
    MpiexecSettings,
    MpirunSettings,
    OrterunSettings,
    RunSettings,
    SbatchSettings,
    Singularity,
    SrunSettings,
)
from .status import SmartSimStatus, Status
from .version import __version__

__all__ = [
    "BatchSettings",
    "BuildError",
    "Client",
    "ClientError",
    "Container",
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
    "OrterunSettings",
    "RunSettings",
    "SSConfigError",
    "SSContainerError",
    "SSUnsupportedError",
    "SbatchSettings",
    "Singularity",
    "SmartSimError",
    "SmartSimStatus",
    "SrunSettings",
    "Status",
    "__version__",
]
