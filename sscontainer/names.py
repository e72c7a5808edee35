"""Name validation shared by entities, experiments, images and keys."""

from __future__ import annotations

import re

from .errors import InvalidNameError
from .limits import MAX_NAME_BYTES, shown

_NAME = re.compile(r"[A-Za-z0-9_.-]+")
# directories sscontainer keeps in every experiment directory: no entity may be named so
RESERVED_NAMES = frozenset({".sscontainer", "images"})


def is_entity_name(name: str) -> bool:
    """Whether ``name`` is made of letters, digits, ``_``, ``.``, ``-`` (at least one)
    and is not ``.`` or ``..`` (the rule of :func:`validate_name`, length aside)."""
    return name not in (".", "..") and _NAME.fullmatch(name) is not None


def reserved_message(name: str) -> str:
    return (
        f"{name!r} is the name of a directory sscontainer keeps in the experiment directory "
        f"(reserved: {', '.join(sorted(RESERVED_NAMES))}): choose another name"
    )


def check_not_reserved(name: str, what: str = "name") -> str:
    """Refuse an entity name that would take the place of sscontainer's own directories."""
    if name in RESERVED_NAMES:
        raise InvalidNameError(f"{what} {reserved_message(name)}")
    return name


def validate_name(name: object, what: str = "name") -> str:
    """Return ``name`` when it is a safe entity/experiment name, else raise.

    Safe means non-empty, only ``[A-Za-z0-9_.-]`` and not ``.`` or ``..``, so a
    name can never escape the directory it names or carry a control character.
    """
    if not isinstance(name, str):
        raise InvalidNameError(
            f"{what} must be a string, got {type(name).__name__} {shown(name)}"
        )
    if not name:
        raise InvalidNameError(
            f"{what} is empty: give a name made of letters, digits, '_', '.', '-'"
        )
    if len(name) > MAX_NAME_BYTES:
        raise InvalidNameError(
            f"{what} {shown(name)} is {len(name)} characters long, more than the limit of "
            f"{MAX_NAME_BYTES} (it names files and directories): choose a shorter name"
        )
    if not is_entity_name(name):
        raise InvalidNameError(
            f"{what} {shown(name)} is not allowed: use only letters, digits, '_', '.' and '-' "
            "(no '/', '..', spaces or control characters)"
        )
    return name
