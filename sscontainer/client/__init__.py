"""The SmartRedis-compatible client: ``from sscontainer.client import *`` works like
``from smartredis import *`` (Client, Dataset and the LL* logging levels)."""

from __future__ import annotations

from .client import Client
from .dataset import Dataset
from .log import LLDebug, LLDeveloper, LLInfo, LLQuiet, LogLevel

DataSet = Dataset  # SmartRedis's C++ spelling

__all__ = [
    "Client", "Dataset", "DataSet", "LogLevel", "LLQuiet", "LLInfo", "LLDebug", "LLDeveloper",
]
