"""Read-modify-write of a JSON file in ``<exp_path>/.sscontainer``, safe in every order.

Processes take turns through an ``flock`` on ``.lock``; readers never see half a file
(a temporary file replaces it). Within one process, a signal handler may stop jobs
(and so record their end) while the main thread is in the middle of an update:
taking the lock again would wait forever on ourselves, so such a nested change is
queued and applied by the update already under way, before it lets go of the lock.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from collections.abc import Callable
from typing import Any

STATE_DIR = ".sscontainer"
Change = Callable[[dict[str, Any]], None]
_queued: dict[str, list[Change]] = {}  # files this process is updating now -> changes


def state_dir(exp_path: str) -> str:
    return os.path.join(exp_path, STATE_DIR)


def update(
    exp_path: str, name: str, read: Callable[[str], dict[str, Any]], change: Change
) -> None:
    """Apply ``change`` to the document ``read(path)`` returns, and write it back."""
    directory = state_dir(exp_path)
    path = os.path.join(directory, name)
    if path in _queued:  # re-entered from a signal handler: the running update applies it
        _queued[path].append(change)
        return
    _queued[path] = [change]
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        with open(os.path.join(directory, ".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                _apply_queued(directory, path, read)
            except BaseException:
                # a handler queued a change, then raised (KeyboardInterrupt): keep it
                try:
                    _apply_queued(directory, path, read)
                except Exception:  # noqa: BLE001 - the first error is the one to report
                    pass
                raise
    finally:
        del _queued[path]


def _apply_queued(directory: str, path: str, read: Callable[[str], dict[str, Any]]) -> None:
    while _queued[path]:
        changes = list(_queued[path])
        data = read(path)
        for each in changes:
            each(data)
        _write(directory, path, data)
        del _queued[path][: len(changes)]


def _write(directory: str, path: str, data: dict[str, Any]) -> None:
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(data))  # no indent: the C encoder (fast)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
