"""SmartRedis settings every launched entity gets unless someone chose them already.

SmartRedis waits ``SR_SOCKET_TIMEOUT`` ms (default 250) for each reply, then closes the
connection and sends the same command again on a new one, for up to ``SR_CMD_TIMEOUT``
s. A ``run_model``/``run_script`` that takes longer than that (a real model, a batch
that waits for ``MINBATCHTIMEOUT``, a queue behind other jobs) would be re-sent
several times, and a queued job whose caller left is dropped, so it may never run.
Entities therefore get a socket timeout long enough for a model run: 60 s. The value
from the driver's environment wins (and is passed on, so containers get it too), and
a run setting's ``env_vars`` win over both. A database created with
``db_identifier=<id>`` gets the suffixed name too (``SR_SOCKET_TIMEOUT_<id>``, which
``ConfigOptions.create_from_environment("<id>")`` reads).

No other ``SR_*`` setting is given: the connection and command timeouts only bound how
long SmartRedis keeps trying, which is the user's choice.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

SOCKET_TIMEOUT = "SR_SOCKET_TIMEOUT"
SOCKET_TIMEOUT_MS = "60000"
DEFAULTS = {SOCKET_TIMEOUT: SOCKET_TIMEOUT_MS}


def database_suffixes(env: Mapping[str, str], extra: Iterable[str] = ()) -> list[str]:
    """``""`` and ``_<id>`` for every database an entity's ``env`` names (``SSDB_<id>``)."""
    suffixes = {""}
    for key in env:
        if key.startswith("SSDB_") and not key.startswith("SSDB_PASSWORD"):
            suffixes.add(key[len("SSDB"):])
    suffixes.update(f"_{ident}" for ident in extra if ident)
    return sorted(suffixes)


def smartredis_defaults(
    env: Mapping[str, str], identifiers: Iterable[str] = (),
    inherited: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """What to add to an entity's environment: each default under every database suffix,
    with the driver's value (``inherited``, default ``os.environ``) where it has one."""
    inherited = os.environ if inherited is None else inherited
    out: dict[str, str] = {}
    for suffix in database_suffixes(env, identifiers):
        for name, value in DEFAULTS.items():
            key = name + suffix
            out[key] = inherited.get(key, value)
    return out
