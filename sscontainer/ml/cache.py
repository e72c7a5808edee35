"""Loaded models and scripts of one worker: each loaded once per stored version.

The module gives every stored model/script a version (a digest of its bytes and
settings); a job carries it, and the worker fetches the asset (``SSC.ASSETGET``)
only for a version it has not loaded. A version that failed to load is remembered
too, so a broken model costs one load attempt, not one per request; storing a
fixed model (a new version) is enough to recover, no worker restart needed.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from ..errors import BackendError
from .backends import ModelRunner, ScriptRunner, Threads, load_model, load_script
from .jobs import Asset

MAX_LOADED = 64  # least recently used models are dropped beyond this


@dataclass
class _Entry:
    version: str
    runner: Any = None
    error: str = ""


class RunnerCache:
    """key -> the runner of one version of that key's model or script."""

    def __init__(self, threads: Threads) -> None:
        self.threads = threads
        self._entries: OrderedDict[bytes, _Entry] = OrderedDict()
        self.loads = 0

    def has(self, key: bytes, version: str) -> bool:
        entry = self._entries.get(key)
        return entry is not None and entry.version == version

    def load(self, key: bytes, asset: Asset) -> None:
        """Load ``asset`` (fetched for ``key``); a failure is kept as the version's error."""
        entry = _Entry(version=asset.version)
        self.loads += 1
        name = key.decode("utf-8", "backslashreplace")
        what = "script" if asset.kind == "SCRIPT" else f"{asset.backend} model"
        try:
            if asset.kind == "SCRIPT":
                entry.runner = load_script(asset.payload.decode("utf-8", "replace"),
                                           asset.device, self.threads)
            else:
                entry.runner = load_model(asset.backend, asset.payload, asset.device,
                                          asset.inputs, asset.outputs, self.threads)
        except BackendError as exc:
            entry.error = f"could not load {what} '{name}': {exc}"
        self.remember(key, entry)

    def fail(self, key: bytes, version: str, error: str) -> None:
        """Remember that ``version`` of ``key`` cannot be run (its asset was not readable)."""
        self.remember(key, _Entry(version=version, error=error))

    def remember(self, key: bytes, entry: _Entry) -> None:
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > MAX_LOADED:
            self._entries.popitem(last=False)

    def get(self, key: bytes, version: str) -> ModelRunner | ScriptRunner:
        """The runner of ``version``; BackendError with the backend's words if it is broken."""
        entry = self._entries.get(key)
        if entry is None or entry.version != version:
            raise BackendError(f"{key!r} version {version} was not loaded")
        self._entries.move_to_end(key)
        if entry.error:
            raise BackendError(entry.error)
        runner: ModelRunner | ScriptRunner = entry.runner
        return runner
