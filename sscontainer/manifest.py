"""The launch manifest: ``<exp_path>/.sscontainer/manifest.json``.

Every launch is recorded (entity, launcher, handle, image, start time, files, and
what proves its process's identity later: start time and mark), so ``sscontainer
status``/``stop`` and ``Experiment.reconnect`` can find what an earlier driver started
after that driver is gone. Also kept: each driver's process mark (``stop`` ends what
they left behind), the entities a CLI run planned (``status`` lists those never
started), and whether a stop was asked for (whoever sees the end reports Cancelled).
Every entry read back is checked field by field: nothing is acted on for a damaged one.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from .errors import SSConfigError
from .jobs import Job
from .launchers.base import Launcher
from .launchers.step import Step
from .limits import shown
from .names import validate_name
from .state_file import STATE_DIR, update
from .status import Status

MANIFEST_DIR = STATE_DIR
MANIFEST_NAME = "manifest.json"
# what a launcher's handle looks like: anything else was not written by sscontainer
HANDLES = {
    "local": re.compile(r"[0-9]{1,10}"),
    "docker": re.compile(r"[0-9a-f]{12,64}"),
    "slurm": re.compile(r"[0-9]{1,12}(_[0-9]{1,9})?"),
}


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
    cancelled: bool = False  # a stop was asked for (by this driver or `sscontainer stop`)

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


def entry_for(job: Job) -> ManifestEntry:
    """The record of ``job``'s launch, with what proves its process's identity later."""
    entry = ManifestEntry.from_step(job.step, job.launcher.name, job.handle, job.start_time)
    entry.labels.update(job.identity)
    return entry


def _update(exp_path: str, change: Callable[[dict[str, Any]], None]) -> None:
    def read(path: str) -> dict[str, Any]:
        return _read(exp_path) or {"experiment": "", "entries": []}

    update(exp_path, MANIFEST_NAME, read, change)


def record_launch(
    exp_path: str, experiment: str, entry: ManifestEntry, mark: str | None = None
) -> None:
    """Add ``entry``; the latest launch of an entity replaces earlier ones. ``mark``: the
    launching driver's process mark, so ``sscontainer stop`` finds what it left behind."""

    def change(data: dict[str, Any]) -> None:
        data["experiment"] = experiment
        data["entries"] = [e for e in data["entries"] if e.get("name") != entry.name]
        data["entries"].append(asdict(entry))
        if mark and mark not in data.setdefault("marks", []):
            data["marks"] = [*data["marks"], mark][-64:]

    _update(exp_path, change)


def record_plan(exp_path: str, experiment: str, planned: list[tuple[str, str]]) -> None:
    """Every entity a run means to start (name, type): status lists the ones never started.

    Entries of launches that ended (an earlier run's) are dropped: the manifest now tells
    this run's story. Those not known to have ended are kept for ``stop`` to find."""

    def change(data: dict[str, Any]) -> None:
        data["experiment"] = experiment
        data["planned"] = [{"name": n, "entity_type": t} for n, t in planned]
        # a new run: how the last one ended is no longer the news (what may still run stays)
        data["entries"] = [e for e in data["entries"] if e.get("status") is None]

    _update(exp_path, change)


def record_end(
    exp_path: str, name: str, handle: str, status: str, returncode: int | None, end_time: float
) -> str:
    """Note how a launch ended (only if it is still the entity's latest launch). A launch
    some driver asked to stop ends Cancelled, whoever sees it end: that status is returned."""
    final = [status]

    def change(data: dict[str, Any]) -> None:
        for entry in data["entries"]:
            if entry.get("name") == name and entry.get("handle") == handle:
                ended = "Cancelled" if entry.get("cancelled") and status != "Completed" else status
                final[0] = ended
                entry.update(status=ended, returncode=returncode, end_time=end_time)

    _update(exp_path, change)
    return final[0]


def mark_cancelled(exp_path: str, names_handles: list[tuple[str, str]]) -> None:
    """Before signalling: these launches are being stopped on purpose (see record_end)."""
    wanted = set(names_handles)

    def change(data: dict[str, Any]) -> None:
        for entry in data["entries"]:
            if (entry.get("name"), entry.get("handle")) in wanted:
                entry["cancelled"] = True

    _update(exp_path, change)


def _read(exp_path: str) -> dict[str, Any] | None:
    path = manifest_path(exp_path)
    if not os.path.exists(path):
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError, RecursionError) as exc:
        raise SSConfigError(f"{path} cannot be read ({exc}): was it edited by hand?") from exc
    if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
        raise SSConfigError(f"{path} is not an sscontainer manifest")
    return data


def _problem(raw: dict[str, Any]) -> str:
    """What is wrong with one recorded entry ('' when nothing)."""
    kinds: dict[str, tuple[type, ...]] = {
        "name": (str,), "entity_type": (str,), "launcher": (str,), "handle": (str,),
        "start_time": (int, float), "cwd": (str,), "out": (str,), "err": (str,),
        "argv": (list,), "image": (str, type(None)), "labels": (dict,),
        "status": (str, type(None)), "returncode": (int, type(None)),
        "end_time": (int, float, type(None)), "cancelled": (bool,),
    }
    known = {f.name for f in fields(ManifestEntry)}
    for key in raw:
        if key not in known:
            return f"unknown field {shown(key)}"
    for key in ("name", "entity_type", "launcher", "handle", "start_time", "cwd", "out", "err"):
        if key not in raw:
            return f"missing field {key!r}"
    for key, value in raw.items():
        if not isinstance(value, kinds[key]) or (key != "cancelled" and isinstance(value, bool)):
            return f"{key} {shown(value)} has the wrong type"
    pattern = HANDLES.get(raw["launcher"])
    if pattern is None:
        return f"launcher {shown(raw['launcher'])} is not known"
    if not pattern.fullmatch(raw["handle"]):
        return f"handle {shown(raw['handle'])} is not a {raw['launcher']} job id"
    if not all(isinstance(a, str) for a in raw.get("argv", [])):
        return "argv holds something other than strings"
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in raw.get("labels", {}).items()):
        return "labels must map strings to strings"
    if raw.get("status") is not None and raw["status"] not in {s.value for s in Status}:
        return f"status {shown(raw['status'])} is not a status"
    try:
        validate_name(raw["name"], "name")
    except SSConfigError as exc:
        return str(exc)
    return ""


def parse_entry(raw: Any, where: str) -> ManifestEntry:
    """A recorded launch, checked field by field (nothing is signalled for a bad one)."""
    problem = "not a JSON object" if not isinstance(raw, dict) else _problem(raw)
    if problem:
        raise SSConfigError(
            f"{where}: {problem}: it was edited or damaged, and sscontainer acts on nothing "
            "it cannot verify; remove that entry or the file"
        )
    return ManifestEntry(**raw)


def load_manifest(exp_path: str) -> tuple[str, list[ManifestEntry]]:
    """The experiment name and its recorded launches; a clear error when there are none."""
    data = _read(exp_path)
    if data is None:
        raise SSConfigError(
            f"{exp_path} has no {MANIFEST_DIR}/{MANIFEST_NAME}: give the directory of an "
            "experiment that sscontainer started (or its YAML file)"
        )
    path = manifest_path(exp_path)
    entries = [parse_entry(e, f"{path}: entry {i}") for i, e in enumerate(data["entries"])]
    return str(data.get("experiment", "")), entries


def manifest_extras(exp_path: str) -> tuple[list[str], list[tuple[str, str]]]:
    """The drivers' process marks and the planned entities (name, type) of a manifest."""
    data = _read(exp_path) or {}
    marks = [m for m in data.get("marks", []) if isinstance(m, str) and m.isalnum()]
    planned = [
        (p["name"], p["entity_type"]) for p in data.get("planned", [])
        if isinstance(p, dict) and isinstance(p.get("name"), str)
        and isinstance(p.get("entity_type"), str)
    ]
    return marks, planned


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
