"""Loaded models and scripts of one worker: each loaded once per stored version.

A version that failed to load is remembered too, so a broken model costs one
load attempt, not one per request; storing a fixed model (a new version) is
enough to recover, no worker restart needed.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from ..errors import BackendError
from .backends import ModelRunner, ScriptRunner, Threads, load_model, load_script
from .store import BLOB_FIELD, SOURCE_FIELD, StoredMeta

MAX_LOADED = 64  # least recently used models are dropped beyond this


@dataclass
class _Entry:
    version: str
    runner: Any = None
    error: str = ""


class RunnerCache:
    """``key`` -> runner for the stored version, read through ``db`` (redis-py client)."""

    def __init__(self, db: Any, threads: Threads) -> None:
        self.db = db
        self.threads = threads
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self.loads = 0

    def _load(self, key: str, meta: StoredMeta) -> _Entry:
        field = SOURCE_FIELD if meta.is_script else BLOB_FIELD
        version, payload = self.db.hmget(key, ["version", field])
        entry = _Entry(version=(version or b"").decode())
        self.loads += 1
        what = "script" if meta.is_script else f"{meta.backend} model"
        try:
            if payload is None:
                raise BackendError("it was deleted")
            if meta.is_script:
                entry.runner = load_script(payload.decode(), meta.device, self.threads)
            else:
                entry.runner = load_model(
                    meta.backend, bytes(payload), meta.device, meta.inputs, meta.outputs,
                    self.threads,
                )
        except BackendError as exc:
            entry.error = f"could not load {what} {key!r}: {exc}"
        return entry

    def get(self, key: str, meta: StoredMeta) -> ModelRunner | ScriptRunner:
        """The runner for ``meta.version``; BackendError (with the backend's words) if broken."""
        entry = self._entries.get(key)
        if entry is None or entry.version != meta.version:
            entry = self._load(key, meta)
            self._entries[key] = entry
            while len(self._entries) > MAX_LOADED:
                self._entries.popitem(last=False)
        self._entries.move_to_end(key)
        if entry.error:
            raise BackendError(entry.error)
        runner: ModelRunner | ScriptRunner = entry.runner
        return runner
