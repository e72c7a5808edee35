"""``get_logger`` as in ``smartsim.log``: a named logger that prints to stderr."""

from __future__ import annotations

import logging
import os

_FORMAT = "%(asctime)s %(name)s[%(process)d] %(levelname)s %(message)s"


def get_logger(name: str, log_level: str | None = None) -> logging.Logger:
    """A logger writing to stderr at ``log_level`` (default: ``SSCONTAINER_LOG_LEVEL`` or INFO)."""
    logger = logging.getLogger(name)
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(_FORMAT))
        logger.addHandler(handler)
        logger.propagate = False
    level = (log_level or os.environ.get("SSCONTAINER_LOG_LEVEL", "INFO")).upper()
    logger.setLevel(getattr(logging, level, logging.INFO))
    return logger
