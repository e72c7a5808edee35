"""Extra keyword arguments of ``create_database`` and ``colocate_db_*``: checked up front.

They are ML worker thread counts (``threads_per_queue``, ``inter_op_threads``,
``intra_op_threads``; SmartSim's colocated spellings ``*_parallelism`` too) or
server configuration directives (``maxclients=100000``). Anything else is a
typo that would otherwise fail only at launch, so it is refused here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..db.colocated_config import ML_THREAD_KEYS
from ..db.directive_names import is_directive
from ..errors import UnsupportedArgumentError

# SmartSim's colocated names for the RedisAI thread settings
THREAD_ALIASES = {
    "inter_op_parallelism": "inter_op_threads",
    "intra_op_parallelism": "intra_op_threads",
}


def check_db_kwargs(kwargs: Mapping[str, Any], where: str) -> dict[str, Any]:
    """``kwargs`` with SmartSim's aliases renamed; an unknown name raises."""
    out: dict[str, Any] = {}
    unknown: list[str] = []
    for key, value in kwargs.items():
        name = THREAD_ALIASES.get(key, key)
        if name in ML_THREAD_KEYS or is_directive(name):
            out[name] = value
        else:
            unknown.append(key)
    if unknown:
        raise UnsupportedArgumentError(
            f"{where} got unknown keyword arguments {sorted(unknown)}: they are neither "
            f"its parameters, ML thread settings ({', '.join(ML_THREAD_KEYS)}) nor server "
            "configuration directives (e.g. maxclients=100000, maxmemory='1gb')"
        )
    return out
