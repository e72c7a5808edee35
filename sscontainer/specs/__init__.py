"""Container specs: one description of an image, rendered as a Dockerfile or an Apptainer
definition, cross-checked with spython."""

from __future__ import annotations

from .crosscheck import crosscheck, crosscheck_texts
from .entities import (
    DEFAULT_BASE,
    SOCKET_DIR,
    VENV,
    base_image,
    colocated_spec,
    model_spec,
    orchestrator_spec,
    runtime_base_spec,
)
from .model import BaseImage, ContainerSpec, Copy, Stage, Wheelhouse
from .render import render, render_apptainer, render_dockerfile
from .steps import (
    AptInstall,
    CreateUser,
    CreateVenv,
    MakeDirs,
    PipInstall,
    Run,
    Step,
    User,
)

__all__ = [
    "DEFAULT_BASE",
    "SOCKET_DIR",
    "VENV",
    "AptInstall",
    "BaseImage",
    "ContainerSpec",
    "Copy",
    "CreateUser",
    "CreateVenv",
    "MakeDirs",
    "PipInstall",
    "Run",
    "Stage",
    "Step",
    "User",
    "Wheelhouse",
    "base_image",
    "colocated_spec",
    "crosscheck",
    "crosscheck_texts",
    "model_spec",
    "orchestrator_spec",
    "render",
    "render_apptainer",
    "render_dockerfile",
    "runtime_base_spec",
]
