"""A Client's connection settings, resolved from its :class:`ConfigOptions`.

SmartRedis's variables, each suffixed ``_<db_suffix>`` for a named database:
``SSDB``, ``SR_DB_TYPE`` (default ``Clustered``), ``SSKEYIN``, ``SSKEYOUT``, and the
timing variables below; plus sscontainer's ``SSDB_PASSWORD``. The timing variables
are checked as SmartRedis checks them, but mean bounds rather than retry budgets:

- ``SR_CONN_TIMEOUT`` (s): how long to keep trying to connect (default 10, not
  SmartRedis's 100: a wrong address fails in seconds); ``SR_CONN_INTERVAL`` (ms):
  the pause between tries (default 250).
- ``SR_CMD_TIMEOUT`` (s, default 100): the longest any one read or write of a reply
  may take. A command is never sent again after a timeout (SmartRedis re-sends it
  every ``SR_SOCKET_TIMEOUT``, which can run a model several times).
- ``SR_CMD_INTERVAL``, ``SR_SOCKET_TIMEOUT``, ``SR_THREAD_COUNT``: checked, unused.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .backend import Timeouts
from .configoptions import INT_MAX, ConfigOptions, parse_integer
from .error import ParameterError
from .ssdb import Address, choose_address

DEFAULT_CONN_TIMEOUT_S = 10
DEFAULT_CONN_INTERVAL_MS = 250
DEFAULT_CMD_TIMEOUT_S = 100
DEFAULT_MODEL_TIMEOUT_MS = 60_000_000  # what SmartRedis sends as AI.MODELEXECUTE's TIMEOUT
_UNSET = -(2**40)


@dataclass(frozen=True)
class Settings:
    cluster: bool
    address: Address
    password: str | None
    timeouts: Timeouts
    put_prefix: str
    get_prefixes: str


def _positive(options: ConfigOptions, name: str, default: int, upper: int = INT_MAX) -> int:
    value = options.resolve_integer(name, _UNSET)
    if value == _UNSET:
        return default
    if value <= 0:
        raise ParameterError(f"{name} {value} must be greater than 0.")
    if value > upper:
        raise ParameterError(f"{name} {value} must be less than {upper}")
    return value


def is_cluster(options: ConfigOptions) -> bool:
    """``SR_DB_TYPE``: only ``Clustered`` (any case; the default) means a cluster."""
    return options.resolve_string("SR_DB_TYPE", "Clustered").lower() == "clustered"


def resolve(options: ConfigOptions, cluster: bool | None) -> Settings:
    """Everything a Client needs to connect; ``cluster=None`` reads ``SR_DB_TYPE``."""
    if cluster is None:
        cluster = is_cluster(options)
    connect = _positive(options, "SR_CONN_TIMEOUT", DEFAULT_CONN_TIMEOUT_S, INT_MAX // 1000)
    interval = _positive(options, "SR_CONN_INTERVAL", DEFAULT_CONN_INTERVAL_MS)
    command = _positive(options, "SR_CMD_TIMEOUT", DEFAULT_CMD_TIMEOUT_S, INT_MAX // 1000)
    _positive(options, "SR_CMD_INTERVAL", 1000)
    _positive(options, "SR_SOCKET_TIMEOUT", 250)
    options.resolve_integer("SR_THREAD_COUNT", 4)
    address = choose_address(options.resolve_string("SSDB", ""))
    return Settings(
        cluster=cluster,
        address=address,
        password=options.resolve_string("SSDB_PASSWORD", "") or None,
        timeouts=Timeouts(float(connect), interval / 1000.0, float(command)),
        put_prefix=options.resolve_string("SSKEYOUT", ""),
        get_prefixes=options.resolve_string("SSKEYIN", ""),
    )


def model_timeout_ms() -> int:
    """``SR_MODEL_TIMEOUT`` (never suffixed), sent as AI.MODELEXECUTE's ``TIMEOUT``."""
    raw = os.environ.get("SR_MODEL_TIMEOUT", "")
    return parse_integer("SR_MODEL_TIMEOUT", raw) if raw else DEFAULT_MODEL_TIMEOUT_MS
