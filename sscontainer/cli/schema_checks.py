"""The checks an experiment YAML's schema is made of: each appends one line per problem.

A check is ``(value, where, errors) -> None``; ``where`` is the value's place in the file
(``models[1].params.THERMO``). Messages quote at most a short piece of a bad value.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ..limits import MAX_NAME_BYTES, MAX_TEXT_BYTES, shown
from ..names import is_entity_name

_WALLTIME = re.compile(r"\d+:[0-5]\d:[0-5]\d")

Check = Callable[[Any, str, list[str]], None]


def _type_name(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )


def _key(key: Any) -> str:
    """A key as it appears in a place (``models[0].colour``), quoted when it is odd."""
    plain = isinstance(key, str) and key.isprintable() and 0 < len(key) <= 60
    return str(key) if plain else shown(key)


def _text_problem(value: str) -> str:
    """Why a string cannot go into an argv, environment or path ('' when it can)."""
    if "\0" in value:
        return "contains a NUL character, which no argument, environment value or path holds"
    if len(value.encode("utf-8", "surrogatepass")) > MAX_TEXT_BYTES:
        return f"is longer than the limit of {MAX_TEXT_BYTES} bytes"
    return ""


def is_name(value: Any, where: str, errors: list[str]) -> None:
    if not isinstance(value, str) or not is_entity_name(value):
        errors.append(
            f"{where}: {shown(value)} is not a valid name: use letters, digits, '_', '.', '-'"
        )
    elif len(value) > MAX_NAME_BYTES:
        errors.append(
            f"{where}: {shown(value)} is {len(value)} characters long, more than the limit of "
            f"{MAX_NAME_BYTES}: choose a shorter name"
        )


def is_str(value: Any, where: str, errors: list[str]) -> None:
    if not isinstance(value, str) or not value:
        errors.append(
            f"{where}: expected a non-empty string, got {_type_name(value)} {shown(value)}"
        )
    elif problem := _text_problem(value):
        errors.append(f"{where}: {shown(value)} {problem}")


def is_bool(value: Any, where: str, errors: list[str]) -> None:
    if not isinstance(value, bool):
        errors.append(f"{where}: expected true or false, got {shown(value)}")


def is_pos_int(value: Any, where: str, errors: list[str]) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        errors.append(f"{where}: expected a positive integer, got {shown(value)}")


def is_scalar(value: Any, where: str, errors: list[str]) -> None:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        errors.append(
            f"{where}: expected a string or number, got {_type_name(value)} {shown(value)}"
        )
    elif isinstance(value, str) and (problem := _text_problem(value)):
        errors.append(f"{where}: {shown(value)} {problem}")


def is_walltime(value: Any, where: str, errors: list[str]) -> None:
    if not isinstance(value, str) or not _WALLTIME.fullmatch(value):
        errors.append(f"{where}: expected a time as 'HH:MM:SS' (quote it), got {shown(value)}")


def one_of(*choices: str) -> Check:
    def check(value: Any, where: str, errors: list[str]) -> None:
        if value not in choices:
            errors.append(f"{where}: {shown(value)} is not one of {', '.join(choices)}")

    return check


def list_of(item: Check, allow_str: bool = False) -> Check:
    def check(value: Any, where: str, errors: list[str]) -> None:
        if allow_str and isinstance(value, str):
            return
        if not isinstance(value, list):
            errors.append(f"{where}: expected a list, got {_type_name(value)} {shown(value)}")
            return
        for i, element in enumerate(value):
            item(element, f"{where}[{i}]", errors)

    return check


def map_of(value_check: Check) -> Check:
    def check(value: Any, where: str, errors: list[str]) -> None:
        if not isinstance(value, dict):
            errors.append(f"{where}: expected a mapping, got {_type_name(value)} {shown(value)}")
            return
        for key, element in value.items():
            if not isinstance(key, str) or not key:
                errors.append(f"{where}: key {shown(key)} must be a non-empty string")
            elif problem := _text_problem(key):
                errors.append(f"{where}: key {shown(key)} {problem}")
            else:
                value_check(element, f"{where}.{key}", errors)

    return check


def scalar_or_list(value: Any, where: str, errors: list[str]) -> None:
    if isinstance(value, list):
        if not value:
            errors.append(f"{where}: the list of values is empty")
        for i, element in enumerate(value):
            is_scalar(element, f"{where}[{i}]", errors)
    else:
        is_scalar(value, where, errors)


def optional_scalar(value: Any, where: str, errors: list[str]) -> None:
    if value is not None:
        is_scalar(value, where, errors)


def fields(spec: dict[str, Check], required: tuple[str, ...] = ()) -> Check:
    """A mapping with known keys: unknown keys and missing required keys are errors."""

    def check(value: Any, where: str, errors: list[str]) -> None:
        if not isinstance(value, dict):
            errors.append(f"{where}: expected a mapping, got {_type_name(value)} {shown(value)}")
            return
        for key in required:
            if key not in value:
                errors.append(f"{where}: missing required field '{key}'")
        for key, element in value.items():
            if key not in spec:
                known = ", ".join(sorted(spec))
                errors.append(f"{where}.{_key(key)}: unknown field (known fields: {known})")
            else:
                spec[key](element, f"{where}.{key}", errors)

    return check


def is_port(value: Any, where: str, errors: list[str]) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        errors.append(f"{where}: expected a port number in 1-65535, got {shown(value)}")


def is_db_nodes(value: Any, where: str, errors: list[str]) -> None:
    is_pos_int(value, where, errors)
    if value == 2:
        errors.append(f"{where}: 2 shards cannot form a Redis Cluster: use 1 or at least 3")


def is_count(value: Any, where: str, errors: list[str]) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        errors.append(f"{where}: expected an integer >= 0, got {shown(value)}")


