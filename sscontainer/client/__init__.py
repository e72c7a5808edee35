"""SmartRedis 0.6.1's Python API in pure Python: ``from sscontainer.client import *``
works as ``from smartredis import *`` and reads and writes the same data.

``error`` holds SmartRedis's exception classes; ``dataset_utils`` its
``DatasetConverter``. See the README for the few documented differences.
"""

from __future__ import annotations

from . import dataset_utils, direct, error
from .client import Client
from .configoptions import ConfigOptions
from .dataset import Dataset
from .dataset_utils import DatasetConverter
from .logcontext import LogContext
from .logger import (
    LLDebug,
    LLDeveloper,
    LLInfo,
    LLQuiet,
    SRLoggingLevel,
    log_data,
    log_error,
    log_warning,
)
from .srobject import SRObject

__all__ = [
    "Client",
    "ConfigOptions",
    "Dataset",
    "SRObject",
    "LogContext",
    "DatasetConverter",
    "log_data",
    "log_warning",
    "log_error",
    "LLQuiet",
    "LLInfo",
    "LLDebug",
    "LLDeveloper",
    "SRLoggingLevel",
    "error",
    "dataset_utils",
    "direct",
]
