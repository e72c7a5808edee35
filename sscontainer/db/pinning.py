"""CPU pinning for colocated databases: parse ``custom_pinning``, check it against this host."""

from __future__ import annotations

import os
from collections.abc import Iterable

from ..errors import SSConfigError

PinningSpec = str | Iterable[object] | None


def _parse_token(token: object, where: str) -> list[int]:
    if isinstance(token, bool):
        raise SSConfigError(f"{where}: {token!r} is not a CPU number")
    if isinstance(token, int):
        if token < 0:
            raise SSConfigError(f"{where}: CPU {token} is negative")
        return [token]
    if isinstance(token, str):
        text = token.strip()
        first, sep, last = text.partition("-")
        if text.isdigit():
            return [int(text)]
        if sep and first.strip().isdigit() and last.strip().isdigit():
            low, high = int(first), int(last)
            if low > high:
                raise SSConfigError(f"{where}: range {text!r} runs backwards (write {high}-{low})")
            return list(range(low, high + 1))
        raise SSConfigError(
            f"{where}: {token!r} is not a CPU number or range (use e.g. 0, '2-3' or '0,2-3')"
        )
    if isinstance(token, Iterable):  # e.g. range(2, 4), as SmartSim accepts
        return [cpu for item in token for cpu in _parse_token(item, where)]
    raise SSConfigError(f"{where}: {token!r} is not a CPU number or range")


def parse_pinning(custom_pinning: PinningSpec, where: str = "custom_pinning") -> list[int] | None:
    """Expand ``custom_pinning`` into a sorted list of CPU ids.

    ``None`` stays ``None`` (use the default: the first ``db_cpus`` allowed CPUs);
    ``[]`` or ``""`` gives ``[]`` (pinning disabled). Accepts a string
    ``"0,2-3"`` or a list such as ``[0, "2-3"]`` / ``[0, range(2, 4)]``.
    """
    if custom_pinning is None:
        return None
    if isinstance(custom_pinning, str):
        tokens: list[object] = [part for part in custom_pinning.split(",") if part.strip()]
    elif isinstance(custom_pinning, Iterable):
        tokens = list(custom_pinning)
    else:
        raise SSConfigError(
            f"{where}: {custom_pinning!r} must be a list such as [0, '2-3'] or a string '0,2-3'"
        )
    cpus: set[int] = set()
    for token in tokens:
        cpus.update(_parse_token(token, where))
    return sorted(cpus)


def format_cpus(cpus: Iterable[int]) -> str:
    """``[0, 1, 2, 5]`` -> ``"0-2,5"``."""
    ordered = sorted(set(cpus))
    parts: list[str] = []
    start = prev = None
    for cpu in ordered:
        if start is None:
            start = prev = cpu
        elif prev is not None and cpu == prev + 1:
            prev = cpu
        else:
            parts.append(f"{start}-{prev}" if start != prev else str(start))
            start = prev = cpu
    if start is not None:
        parts.append(f"{start}-{prev}" if start != prev else str(start))
    return ",".join(parts)


def allowed_cpus() -> set[int]:
    """The CPUs this process may run on (its affinity mask, e.g. from a Slurm cgroup)."""
    return set(os.sched_getaffinity(0))


def resolve_pinning(custom_pinning: PinningSpec, db_cpus: int) -> list[int] | None:
    """The CPUs to pin the database to here, or ``None`` for no pinning.

    Raises :class:`SSConfigError` naming the allowed CPUs when the request
    cannot be met on this host.
    """
    if isinstance(db_cpus, bool) or not isinstance(db_cpus, int) or db_cpus < 1:
        raise SSConfigError(f"db_cpus must be a positive integer, got {db_cpus!r}")
    allowed = allowed_cpus()
    cpus = parse_pinning(custom_pinning)
    if cpus is None:
        if db_cpus > len(allowed):
            raise SSConfigError(
                f"db_cpus={db_cpus} but this process may only use {len(allowed)} CPU(s) "
                f"({format_cpus(allowed)}): lower db_cpus or give custom_pinning=[]"
            )
        return sorted(allowed)[:db_cpus]
    if not cpus:
        return None
    outside = [cpu for cpu in cpus if cpu not in allowed]
    if outside:
        raise SSConfigError(
            f"custom_pinning asks for CPU(s) {format_cpus(outside)}, which this process may not "
            f"use; allowed CPUs: {format_cpus(allowed)}"
        )
    return cpus
