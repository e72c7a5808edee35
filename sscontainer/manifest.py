"""The launch manifest: ``<exp_path>/.sscontainer/manifest.json``.

Every launch is recorded (entity, launcher, handle, image, start time, files),
so ``sscontainer status``/``stop`` and ``Experiment.reconnect`` can find what an
earlier driver started after that driver is gone.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from .errors import SSConfigError
from .jobs import Job
from .launchers.base import Launcher
from .launchers.step import Step
from .status import Status

MANIFEST_DIR = ".sscontainer"
MANIFEST_NAME = "manifest.json"


@dataclass
class ManifestEntry:
    name: str
    entity_type: str
    launcher: str
    handle: str
    start_time: float
    cwd: str
    out: str
    err: str
    argv: list[str] = field(default_factory=list)
    image: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    # filled in when the driver saw the job end: a later driver needs no launcher for it
    status: str | None = None
    returncode: int | None = None
    end_time: float | None = None

    @classmethod
    def from_step(cls, step: Step, launcher: str, handle: str, start_time: float) -> ManifestEntry:
        return cls(
            name=step.name,
            entity_type=step.entity_type,
            launcher=launcher,
            handle=handle,
            start_time=start_time,
            cwd=step.cwd,
            out=step.out,
            err=step.err,
            argv=list(step.argv),
            image=step.image,
            labels=dict(step.labels),
        )

    def to_step(self) -> Step:
        return Step(
            name=self.name,
            entity_type=self.entity_type,
            argv=tuple(self.argv),
            cwd=self.cwd,
            out=self.out,
            err=self.err,
            image=self.image,
            labels=dict(self.labels),
        )


def manifest_path(exp_path: str) -> str:
    return os.path.join(exp_path, MANIFEST_DIR, MANIFEST_NAME)


def _update(exp_path: str, change: Callable[[dict[str, Any]], None]) -> None:
    """Read-modify-write the manifest under a file lock; readers never see half a file."""
    directory = os.path.join(exp_path, MANIFEST_DIR)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    with open(os.path.join(directory, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data = _read(exp_path) or {"experiment": "", "entries": []}
        change(data)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".manifest-")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2)
        os.replace(tmp, manifest_path(exp_path))


def record_launch(exp_path: str, experiment: str, entry: ManifestEntry) -> None:
    """Add ``entry``; the latest launch of an entity replaces earlier ones."""

    def change(data: dict[str, Any]) -> None:
        data["experiment"] = experiment
        data["entries"] = [e for e in data["entries"] if e.get("name") != entry.name]
        data["entries"].append(asdict(entry))

    _update(exp_path, change)


def record_end(
    exp_path: str, name: str, handle: str, status: str, returncode: int | None, end_time: float
) -> None:
    """Note how a launch ended (only if it is still the entity's latest launch)."""

    def change(data: dict[str, Any]) -> None:
        for entry in data["entries"]:
            if entry.get("name") == name and entry.get("handle") == handle:
                entry.update(status=status, returncode=returncode, end_time=end_time)

    _update(exp_path, change)


def _read(exp_path: str) -> dict[str, Any] | None:
    path = manifest_path(exp_path)
    if not os.path.exists(path):
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, json.JSONDecodeError) as exc:
        raise SSConfigError(f"{path} cannot be read ({exc}): was it edited by hand?") from exc
    if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
        raise SSConfigError(f"{path} is not an sscontainer manifest")
    return data


def load_manifest(exp_path: str) -> tuple[str, list[ManifestEntry]]:
    """The experiment name and its recorded launches; a clear error when there are none."""
    data = _read(exp_path)
    if data is None:
        raise SSConfigError(
            f"{exp_path} has no {MANIFEST_DIR}/{MANIFEST_NAME}: give the directory of an "
            "experiment that sscontainer started"
        )
    try:
        entries = [ManifestEntry(**e) for e in data["entries"]]
    except TypeError as exc:
        raise SSConfigError(f"{manifest_path(exp_path)} has a malformed entry: {exc}") from exc
    return str(data.get("experiment", "")), entries


def adopt_entry(entry: ManifestEntry, launcher: Launcher) -> Job:
    """A Job for a recorded launch: ended as recorded, or handed to ``launcher`` to watch."""
    step = entry.to_step()
    job = Job(step, entry.handle, launcher, start_time=entry.start_time)
    if entry.status is not None:  # the earlier driver saw it end
        job.status, job.returncode = Status(entry.status), entry.returncode
        job.end_time = entry.end_time
    else:
        launcher.adopt(entry.handle, step)
    return job
