"""SmartRedis-style logging: ``log_data(LLInfo, "...")`` through :mod:`logging`.

The threshold comes from ``SR_LOG_LEVEL`` (quiet, info, debug, developer;
default info) and the destination from ``SR_LOG_FILE`` (default stdout), as in
SmartRedis. Messages go through the :mod:`logging` logger named after the
client; when the application configured that logger itself its handlers are
used, otherwise one handler writes to the destination above.
"""

from __future__ import annotations

import enum
import logging
import os
import sys
from collections.abc import Mapping

from ..errors import SSConfigError


class LogLevel(enum.IntEnum):
    """SmartRedis logging levels (``SRLoggingLevel``)."""

    LLQuiet = 1
    LLInfo = 2
    LLDebug = 3
    LLDeveloper = 4


LLQuiet = LogLevel.LLQuiet
LLInfo = LogLevel.LLInfo
LLDebug = LogLevel.LLDebug
LLDeveloper = LogLevel.LLDeveloper

_BY_NAME = {"quiet": LLQuiet, "info": LLInfo, "debug": LLDebug, "developer": LLDeveloper}
_TO_LOGGING = {LLQuiet: logging.INFO, LLInfo: logging.INFO, LLDebug: logging.DEBUG,
               LLDeveloper: logging.DEBUG}
_HANDLER_MARK = "_sscontainer_client_handler"


def level_from_env(env: Mapping[str, str]) -> LogLevel:
    raw = env.get("SR_LOG_LEVEL", "info").strip().lower() or "info"
    try:
        return _BY_NAME[raw]
    except KeyError:
        raise SSConfigError(
            f"SR_LOG_LEVEL={raw!r}: use one of {', '.join(_BY_NAME)}"
        ) from None


def as_level(level: object) -> LogLevel:
    try:
        return LogLevel(level)  # type: ignore[arg-type]  # checked right here
    except ValueError:
        raise SSConfigError(
            f"log level {level!r}: use LLQuiet, LLInfo, LLDebug or LLDeveloper"
        ) from None


class ClientLogger:
    """The log of one client: threshold + a :class:`logging.Logger` named after it."""

    def __init__(self, name: str, env: Mapping[str, str]) -> None:
        self.name = name
        self.threshold = level_from_env(env)
        self.logger = logging.getLogger(name)
        if not self.logger.handlers:
            path = env.get("SR_LOG_FILE")
            handler: logging.Handler
            if path:
                handler = logging.FileHandler(os.path.abspath(path))
            else:
                handler = logging.StreamHandler(sys.stdout)
            handler.setFormatter(logging.Formatter("%(name)s@%(asctime)s:%(message)s"))
            setattr(handler, _HANDLER_MARK, True)
            self.logger.addHandler(handler)
            self.logger.propagate = False  # SmartRedis writes once, to its own destination
            self.logger.setLevel(logging.DEBUG)

    def log(self, level: object, data: str, python_level: int | None = None) -> None:
        """Log ``data`` when ``level`` is within the threshold (nothing at all when quiet)."""
        wanted = as_level(level)
        if self.threshold == LLQuiet or wanted > self.threshold:
            return
        self.logger.log(python_level or _TO_LOGGING[wanted], "%s", data)
