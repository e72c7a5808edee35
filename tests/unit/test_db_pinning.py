"""custom_pinning parsing and the check against this process's allowed CPUs."""

from __future__ import annotations

import os

import pytest

from sscontainer.db.pinning import format_cpus, parse_pinning, resolve_pinning
from sscontainer.errors import SSConfigError

ALLOWED = sorted(os.sched_getaffinity(0))


@pytest.mark.parametrize(
    "spec, expected",
    [
        (None, None),
        ([], []),
        ("", []),
        ([0, "2-3"], [0, 2, 3]),
        ("0,2-3", [0, 2, 3]),
        (" 5 , 1-2 ,", [1, 2, 5]),
        ([3, 1, 3], [1, 3]),
        ([0, range(2, 4)], [0, 2, 3]),
        (["4"], [4]),
    ],
)
def test_parse(spec: object, expected: list[int] | None) -> None:
    assert parse_pinning(spec) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "spec, fragment",
    [
        ([-1], "negative"),
        (["3-1"], "runs backwards"),
        (["a"], "not a CPU number or range"),
        ("0;1", "not a CPU number or range"),
        ([True], "not a CPU number"),
        ([1.5], "not a CPU number or range"),
        (7, "must be a list"),
    ],
)
def test_parse_errors(spec: object, fragment: str) -> None:
    with pytest.raises(SSConfigError, match=fragment):
        parse_pinning(spec)  # type: ignore[arg-type]


def test_format_cpus() -> None:
    assert format_cpus([0, 1, 2, 5, 7, 8]) == "0-2,5,7-8"
    assert format_cpus([]) == ""


def test_resolve_default_uses_first_allowed_cpus() -> None:
    assert resolve_pinning(None, 1) == ALLOWED[:1]
    assert resolve_pinning([], 1) is None
    assert resolve_pinning([ALLOWED[-1]], 1) == [ALLOWED[-1]]


def test_resolve_rejects_cpus_the_process_may_not_use() -> None:
    outside = max(ALLOWED) + 1
    with pytest.raises(SSConfigError) as info:
        resolve_pinning([outside], 1)
    message = str(info.value)
    assert f"CPU(s) {outside}" in message
    assert f"allowed CPUs: {format_cpus(ALLOWED)}" in message


def test_resolve_rejects_more_db_cpus_than_allowed() -> None:
    with pytest.raises(SSConfigError, match="may only use"):
        resolve_pinning(None, len(ALLOWED) + 1)
    with pytest.raises(SSConfigError, match="db_cpus"):
        resolve_pinning(None, 0)
