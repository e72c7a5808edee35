"""``SRObject``: the base of Client, Dataset and LogContext, which can log under a name."""

from __future__ import annotations

from .checks import api, typecheck
from .logger import LOGGER, SRLoggingLevel


class SRObject:
    """Something that logs under a context name (SmartRedis's ``SRObject``)."""

    def __init__(self, context: str) -> None:
        typecheck(context, "context", str)
        self._name = context

    def _log(self, level: object, data: object, prefix: str) -> None:
        typecheck(level, "level", SRLoggingLevel)
        typecheck(data, "data", str)
        LOGGER.write(self._name, level, prefix + data)  # type: ignore[arg-type,operator]

    @api
    def log_data(self, level: SRLoggingLevel, data: str) -> None:
        """Log ``data`` under this object's name when ``level`` is enabled."""
        self._log(level, data, "")

    @api
    def log_warning(self, level: SRLoggingLevel, data: str) -> None:
        """As :meth:`log_data`, prefixed ``WARNING: ``."""
        self._log(level, data, "WARNING: ")

    @api
    def log_error(self, level: SRLoggingLevel, data: str) -> None:
        """As :meth:`log_data`, prefixed ``ERROR: ``."""
        self._log(level, data, "ERROR: ")
