"""Bounds on user input, and checks of text and paths every entry point shares.

Each limit is named in the error that enforces it, so a user knows what to change.
The ensemble-size limit can be raised with ``SSCONTAINER_MAX_MEMBERS``; the others
are far beyond any real experiment and only stop runaway input.
"""

from __future__ import annotations

import os
from typing import Any

from .errors import SSConfigError

MAX_NAME_BYTES = 128  # entity/experiment names: leaves room for "_<i>", ".colocated.json"
MAX_PATH_BYTES = 3072  # an experiment path, below PATH_MAX (4096) with room for run dirs
MAX_COMPONENT_BYTES = 255  # NAME_MAX on every Linux filesystem sscontainer runs on
DEFAULT_MAX_MEMBERS = 10_000  # ensemble members (models per ensemble)
MEMBERS_ENV = "SSCONTAINER_MAX_MEMBERS"
MAX_YAML_BYTES = 1 << 20  # an experiment file
MAX_YAML_DEPTH = 64  # nested mappings/lists in an experiment file
MAX_YAML_NODES = 200_000  # values in an experiment file, aliases expanded
MAX_ERRORS = 20  # problems listed at once; the rest are counted
MAX_SHOWN = 60  # characters of a bad value quoted in a message
MAX_TEXT_BYTES = 128 * 1024  # one argument, parameter or environment value
# kernel interfaces and device trees: an experiment never belongs there
SYSTEM_DIRS = ("/proc", "/sys", "/dev")
SHARED_MEMORY = "/dev/shm"


def shown(value: Any, limit: int = MAX_SHOWN) -> str:
    """``repr(value)``, cut to ``limit`` characters so a message stays one short line."""
    text = _bounded_repr(value, limit)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _bounded_repr(value: Any, limit: int) -> str:
    # never repr a huge (or self-referencing, alias-expanded) structure in full
    if isinstance(value, (list, tuple)) and len(value) > 8:
        head = ", ".join(_bounded_repr(v, limit) for v in value[:3])
        return f"[{head}, ... ({len(value)} items)]"
    if isinstance(value, dict) and len(value) > 8:
        return f"{{... ({len(value)} keys)}}"
    if isinstance(value, str) and len(value) > limit:
        return repr(value[:limit])
    try:
        return repr(value)[: limit * 4]
    except RecursionError:
        return f"<{type(value).__name__}>"


def max_members() -> int:
    """The most members an ensemble may have (``SSCONTAINER_MAX_MEMBERS`` raises it)."""
    raw = os.environ.get(MEMBERS_ENV, "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else DEFAULT_MAX_MEMBERS


def check_members(count: int, what: str) -> None:
    limit = max_members()
    if count > limit:
        raise SSConfigError(
            f"{what} would have {count} members, more than the limit of {limit}: use fewer "
            f"values or replicas, or raise the limit with {MEMBERS_ENV}=N"
        )


def check_text(value: str, what: str) -> str:
    """A string that can go into an argv, an environment or a file name: no NUL, bounded."""
    if "\0" in value:
        raise SSConfigError(
            f"{what} {shown(value)} contains a NUL character, which no program argument, "
            "environment value or path can hold: remove it"
        )
    if len(value.encode("utf-8", "surrogatepass")) > MAX_TEXT_BYTES:
        raise SSConfigError(
            f"{what} is {len(value)} characters long, more than the limit of "
            f"{MAX_TEXT_BYTES} bytes: pass large data in a file"
        )
    return value


def check_words(value: Any, what: str) -> None:
    """A string or a non-empty list of strings (interfaces, hosts): refuse anything else."""
    from .errors import ArgumentTypeError

    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not all(isinstance(i, str) for i in items):
        raise ArgumentTypeError(
            f"{what} must be a string or a list of strings, got {type(value).__name__} "
            f"{shown(value)}"
        )
    for item in items:
        check_text(item, what)


def check_path(path: str, what: str) -> str:
    """An absolute path sscontainer may create directories at: checked, nothing created.

    Refused: NUL, too long (in all or one component), under /proc, /sys or /dev,
    an existing non-directory, and a missing directory whose nearest existing parent
    is not a writable directory.
    """
    check_text(path, what)
    path = os.path.abspath(path)
    if len(path.encode()) > MAX_PATH_BYTES:
        raise SSConfigError(
            f"{what} {shown(path)} is {len(path.encode())} bytes long, more than the limit "
            f"of {MAX_PATH_BYTES}: choose a shorter path"
        )
    for part in path.split(os.sep):
        if len(part.encode()) > MAX_COMPONENT_BYTES:
            raise SSConfigError(
                f"{what}: the name {shown(part)} is {len(part.encode())} bytes long, more "
                f"than the filesystem allows ({MAX_COMPONENT_BYTES}): choose a shorter name"
            )
    real = os.path.realpath(path)
    for system in SYSTEM_DIRS:
        if real.startswith(SHARED_MEMORY + os.sep):
            break  # a tmpfs: a fine place for scratch experiments
        if real == system or real.startswith(system + os.sep):
            raise SSConfigError(
                f"{what} {path} is under {system}, a kernel interface, not a place for "
                "files: choose a directory on a real filesystem"
            )
    if os.path.lexists(path) and not os.path.isdir(path):
        raise SSConfigError(
            f"{what} {path} exists and is not a directory: choose another path or move it"
        )
    _check_writable(path, what)
    return path


def _check_writable(path: str, what: str) -> None:
    probe = path
    while not os.path.exists(probe):
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    if not os.path.isdir(probe):
        raise SSConfigError(
            f"{what} {path}: {probe} is a file, so no directory can be made under it"
        )
    if not os.access(probe, os.W_OK | os.X_OK):
        raise SSConfigError(
            f"{what} {path}: {probe} is not writable by this user: choose a directory you "
            "can write to"
        )
    try:
        if os.statvfs(probe).f_flag & os.ST_RDONLY:
            raise SSConfigError(
                f"{what} {path}: {probe} is on a read-only filesystem: choose a writable "
                "directory"
            )
    except OSError:
        pass
