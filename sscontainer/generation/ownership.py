"""What sscontainer made in an experiment directory, so it never replaces anything else.

``<exp_path>/.sscontainer/generated.json`` lists every directory sscontainer made
(run directories, a database's directory, ``images/``) with a snapshot of the files
in it (size and modification time) taken when sscontainer last wrote there: after
generating it, and when a job that ran in it ended. Before a directory is replaced:

- not listed (a project's file or directory, ``.git``): never replaced, whatever
  ``overwrite`` says;
- listed and unchanged since the snapshot: replaced;
- listed, with files changed or added since: refused, or with ``overwrite`` moved
  whole to ``.sscontainer/kept/<time>/`` (nothing is deleted) and generated again.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
from collections.abc import Callable
from typing import Any

from ..errors import EntityDirExistsError, GenerationError
from ..state_file import STATE_DIR, update

RECORD_NAME = "generated.json"
KEPT_DIR = "kept"
MAX_FILES = 100_000  # a bigger directory is not snapshotted: replacing it needs overwrite
_TOO_MANY = "too-many-files"

Snapshot = dict[str, list[int]]


def _state(exp_path: str) -> str:
    return os.path.join(exp_path, STATE_DIR)


def _key(exp_path: str, path: str) -> str:
    rel = os.path.relpath(path, exp_path)
    return path if rel.startswith(os.pardir) else rel


def snapshot(path: str) -> Snapshot | None:
    """``{relative path: [size, mtime_ns]}`` of every file and link under ``path``."""
    files: Snapshot = {}
    for root, dirs, names in os.walk(path):
        for name in [*names, *(d for d in dirs if os.path.islink(os.path.join(root, d)))]:
            full = os.path.join(root, name)
            try:
                info = os.lstat(full)
            except OSError:
                continue
            files[os.path.relpath(full, path)] = [info.st_size, info.st_mtime_ns]
            if len(files) > MAX_FILES:
                return None
    return files


def _shot(path: str) -> Snapshot | str:
    shot = snapshot(path)
    return _TOO_MANY if shot is None else shot


def load(exp_path: str) -> dict[str, Any]:
    """The record (``{"dirs": {key: snapshot | "too-many-files"}}``); empty when absent."""
    path = os.path.join(_state(exp_path), RECORD_NAME)
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        return {"dirs": {}}
    except (OSError, ValueError) as exc:
        raise GenerationError(
            f"{path} cannot be read ({exc}): it lists what sscontainer made here; restore or "
            "remove it (then run directories already here are treated as not sscontainer's)"
        ) from exc
    if not isinstance(data, dict) or not isinstance(data.get("dirs"), dict):
        raise GenerationError(f"{path} is not sscontainer's record of generated directories")
    return data


def _change(exp_path: str, change: Callable[[dict[str, Any]], None]) -> None:
    def read(_path: str) -> dict[str, Any]:
        return load(exp_path)

    update(exp_path, RECORD_NAME, read, change)


def record(exp_path: str, *paths: str) -> None:
    """Note that sscontainer made (or just wrote in) ``paths``, with what they hold now."""
    shots = {_key(exp_path, p): _shot(p) for p in paths if os.path.isdir(p)}
    if shots:
        _change(exp_path, lambda data: data["dirs"].update(shots))


def snapshots(exp_path: str, paths: list[str]) -> dict[str, Snapshot | str]:
    """What the directories at ``paths`` hold now, by record key (taken when a job that ran
    there ended: its outputs are sscontainer's too)."""
    return {_key(exp_path, p): _shot(p) for p in paths if os.path.isdir(p)}


def store(exp_path: str, shots: dict[str, Snapshot | str]) -> None:
    """Keep ``shots`` for the directories sscontainer made (a user's stays the user's)."""

    def change(data: dict[str, Any]) -> None:
        for key, shot in shots.items():
            if key in data["dirs"]:
                data["dirs"][key] = shot

    if shots:
        _change(exp_path, change)


def edits(recorded: Any, path: str) -> list[str]:
    """Files under ``path`` added or changed since ``recorded`` was taken."""
    now = snapshot(path)
    if now is None or not isinstance(recorded, dict):
        return ["(more files than sscontainer keeps track of)"]
    return sorted(rel for rel, stat in now.items() if recorded.get(rel) != stat)


def _describe(changed: list[str]) -> str:
    shown = ", ".join(changed[:3])
    return shown + (f" and {len(changed) - 3} more" if len(changed) > 3 else "")


class Replacer:
    """Decides, before anything is written, what happens to each existing target."""

    def __init__(self, exp_path: str) -> None:
        self.exp_path = exp_path
        self.dirs: dict[str, Any] = load(exp_path)["dirs"] if os.path.isdir(exp_path) else {}
        self.stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")

    def owned(self, path: str) -> bool:
        return _key(self.exp_path, path) in self.dirs

    def check(self, path: str, overwrite: bool, rerun: bool = False) -> str:
        """``"new"``, ``"replace"`` or ``"keep"`` (move aside first) for ``path``, or raise.

        ``rerun`` (the CLI's ``run``): an unchanged directory sscontainer made is replaced
        without ``overwrite``; the API needs ``overwrite`` for that (SmartSim's rule).
        """
        if not os.path.lexists(path):
            return "new"
        if not self.owned(path) or not os.path.isdir(path) or os.path.islink(path):
            raise EntityDirExistsError(
                f"{path} exists and sscontainer did not make it: it is never replaced, even "
                "with overwrite; choose another experiment path or entity name, or move it"
            )
        changed = edits(self.dirs[_key(self.exp_path, path)], path)
        if not changed:
            if overwrite or rerun:
                return "replace"
            raise EntityDirExistsError(
                f"{path} already exists: pass overwrite=True to generate() (CLI: --overwrite) "
                "to replace it, or remove it"
            )
        if overwrite:
            return "keep"
        raise EntityDirExistsError(
            f"{path} has files changed or added since sscontainer wrote it "
            f"({_describe(changed)}): pass overwrite (CLI: --overwrite) to move that "
            f"directory to {os.path.join(_state(self.exp_path), KEPT_DIR)}/<time>/ and "
            "generate it again, or move the files away"
        )

    def kept_root(self) -> str:
        return os.path.join(_state(self.exp_path), KEPT_DIR, self.stamp)

    def clear(self, path: str, action: str) -> str | None:
        """Carry out ``action`` on ``path``; returns where kept files went, if anywhere."""
        if action == "replace":
            shutil.rmtree(path)
            return None
        if action != "keep":
            return None
        rel = _key(self.exp_path, path).lstrip(os.sep)
        target = os.path.join(self.kept_root(), rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.move(path, target)
        return target
