"""``smartsim.error.errors``: the module path SmartSim drivers import error classes from."""

from __future__ import annotations

from ..errors import (
    AllocationError,
    EntityExistsError,
    LauncherError,
    LauncherUnsupportedFeature,
    ParameterWriterError,
    PreviewFormatError,
    ShellError,
    SmartSimError,
    SSConfigError,
    SSDBFilesNotParseable,
    SSDBIDConflictError,
    SSInternalError,
    SSReservedKeywordError,
    SSUnsupportedError,
    UserStrategyError,
)

__all__ = [
    "AllocationError",
    "EntityExistsError",
    "LauncherError",
    "LauncherUnsupportedFeature",
    "ParameterWriterError",
    "PreviewFormatError",
    "SSConfigError",
    "SSDBFilesNotParseable",
    "SSDBIDConflictError",
    "SSInternalError",
    "SSReservedKeywordError",
    "SSUnsupportedError",
    "ShellError",
    "SmartSimError",
    "UserStrategyError",
]
