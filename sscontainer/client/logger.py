"""SmartRedis's logging: ``<context>@HH-MM-SS:<text>`` lines to ``SR_LOG_FILE`` or stdout.

The threshold is ``SR_LOG_LEVEL`` (quiet, info, debug, developer; default info),
read on first use, as SmartRedis does. A message is written when its level is at or
below the threshold. Nothing is written to the database.
"""

from __future__ import annotations

import enum
import os
import sys
import threading
import time

from .checks import typecheck
from .error import RedisRuntimeError

__all__ = [
    "SRLoggingLevel", "LLQuiet", "LLInfo", "LLDebug", "LLDeveloper",
    "log_data", "log_warning", "log_error",
]


class SRLoggingLevel(enum.IntEnum):
    """SmartRedis's logging levels."""

    LLQuiet = 1
    LLInfo = 2
    LLDebug = 3
    LLDeveloper = 4


LLQuiet = SRLoggingLevel.LLQuiet
LLInfo = SRLoggingLevel.LLInfo
LLDebug = SRLoggingLevel.LLDebug
LLDeveloper = SRLoggingLevel.LLDeveloper

_LEVELS = {"quiet": LLQuiet, "info": LLInfo, "debug": LLDebug, "developer": LLDeveloper}


class _Logger:
    """The one log of this process, configured from the environment on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._configured = False
        self.level = LLInfo
        self.path = ""

    def configure(self) -> None:
        self._configured = True
        path = os.environ.get("SR_LOG_FILE", "")
        raw = os.environ.get("SR_LOG_LEVEL", "")
        self.level = _LEVELS.get(raw.lower(), LLInfo) if raw else LLInfo
        self.path = path
        if path:
            try:
                with open(path, "a", encoding="utf-8"):
                    pass
            except OSError:
                self.path = ""
                raise RedisRuntimeError(f"Cannot write to file: {path}") from None
        if raw and raw.lower() not in _LEVELS:
            raise RedisRuntimeError(
                f"Unrecognized logging level: {raw.lower()} (SR_LOG_LEVEL must be quiet, "
                "info, debug or developer)"
            )

    def enabled(self, level: SRLoggingLevel) -> bool:
        if not self._configured:
            self.configure()
        return level <= self.level

    def write(self, context: str, level: SRLoggingLevel, data: str) -> None:
        if not self.enabled(level):
            return
        line = f"{context}@{time.strftime('%H-%M-%S')}:{data}\n"
        with self._lock:
            if self.path:
                try:
                    with open(self.path, "a", encoding="utf-8") as handle:
                        handle.write(line)
                    return
                except OSError:
                    self.path = ""  # as SmartRedis: fall back to the console
            sys.stdout.write(line)
            sys.stdout.flush()


LOGGER = _Logger()


def _checked(context: str, level: object, data: str) -> SRLoggingLevel:
    typecheck(context, "context", str)
    typecheck(level, "level", SRLoggingLevel)
    typecheck(data, "data", str)
    return level  # type: ignore[return-value]


def log_data(context: str, level: SRLoggingLevel, data: str) -> None:
    """Log ``data`` under ``context`` when ``level`` is enabled."""
    LOGGER.write(context, _checked(context, level, data), data)


def log_warning(context: str, level: SRLoggingLevel, data: str) -> None:
    """As :func:`log_data`, prefixed ``WARNING: ``."""
    LOGGER.write(context, _checked(context, level, data), "WARNING: " + data)


def log_error(context: str, level: SRLoggingLevel, data: str) -> None:
    """As :func:`log_data`, prefixed ``ERROR: ``."""
    LOGGER.write(context, _checked(context, level, data), "ERROR: " + data)
