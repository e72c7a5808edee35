"""Name validation shared by entities, experiments, images and keys."""

from __future__ import annotations

import re

from .errors import InvalidNameError

_NAME = re.compile(r"[A-Za-z0-9_.-]+")


def validate_name(name: object, what: str = "name") -> str:
    """Return ``name`` when it is a safe entity/experiment name, else raise.

    Safe means non-empty, only ``[A-Za-z0-9_.-]`` and not ``.`` or ``..``, so a
    name can never escape the directory it names or carry a control character.
    """
    if not isinstance(name, str):
        raise InvalidNameError(
            f"{what} must be a string, got {type(name).__name__} {name!r}"
        )
    if not name:
        raise InvalidNameError(
            f"{what} is empty: give a name made of letters, digits, '_', '.', '-'"
        )
    if name in (".", "..") or not _NAME.fullmatch(name):
        raise InvalidNameError(
            f"{what} {name!r} is not allowed: use only letters, digits, '_', '.' and '-' "
            "(no '/', '..', spaces or control characters)"
        )
    return name
