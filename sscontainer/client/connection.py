"""Opening the client's connection from ``SSDB``/``SR_DB_TYPE`` with bounded timeouts.

Every socket operation has a timeout, and a failed call is retried at most once
(and only after a connection error, e.g. a server that closed an idle
connection), so a dead or wrong ``SSDB`` fails within seconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.cluster import ClusterNode, RedisCluster
from redis.exceptions import RedisClusterException
from redis.retry import Retry

from ..db.address import ServerAddress, format_ssdb, parse_ssdb
from ..errors import ClientError, SSConfigError

CONNECT_TIMEOUT_CAP = 5.0
REDIS_ERRORS: tuple[type[Exception], ...] = (redis.RedisError, RedisClusterException, OSError)


@dataclass(frozen=True)
class Target:
    """Where the client connects and how."""

    addresses: tuple[ServerAddress, ...]
    cluster: bool
    password: str | None

    @property
    def ssdb(self) -> str:
        return format_ssdb(list(self.addresses))


def resolve_target(
    address: str | None,
    cluster: bool | None,
    password: str | None,
    env: Mapping[str, str],
) -> Target:
    """Combine the constructor arguments with ``SSDB``, ``SR_DB_TYPE`` and ``SSDB_PASSWORD``.

    Explicit arguments win. Without ``cluster`` the type comes from
    ``SR_DB_TYPE`` (``Clustered`` or ``Standalone``), else from the number of
    addresses (several: cluster).
    """
    ssdb = address if address is not None else env.get("SSDB")
    if not ssdb:
        raise ClientError(
            "no database address: pass address='host:port' (or 'unix:///path') or set SSDB"
        )
    try:
        addresses = parse_ssdb(ssdb)
    except SSConfigError as exc:
        raise ClientError(f"bad database address {ssdb!r}: {exc}") from exc
    if cluster is None:
        db_type = env.get("SR_DB_TYPE", "").strip().lower()
        if db_type == "clustered":
            cluster = True
        elif db_type in ("standalone", "colocated"):
            cluster = False
        elif db_type:
            raise ClientError(
                f"SR_DB_TYPE={env['SR_DB_TYPE']!r}: use 'Standalone' or 'Clustered'"
            )
        else:
            cluster = len(addresses) > 1
    if not cluster and len(addresses) > 1:
        raise ClientError(
            f"{len(addresses)} database addresses ({ssdb}) but a standalone connection was "
            "asked for: use cluster=True (SR_DB_TYPE=Clustered) or give one address"
        )
    if cluster and any(a.unix_socket is not None for a in addresses):
        raise ClientError("a Redis Cluster cannot be reached through a Unix socket: use host:port")
    if password is None:
        password = env.get("SSDB_PASSWORD") or None
    return Target(tuple(addresses), bool(cluster), password)


def open_connection(target: Target, timeout: float) -> Any:
    """A ``redis.Redis`` or ``RedisCluster`` for ``target``; checked with PING."""
    if not timeout > 0:
        raise SSConfigError(f"timeout must be a positive number of seconds, got {timeout!r}")
    connect_timeout = min(timeout, CONNECT_TIMEOUT_CAP)
    retry = Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,))
    common: dict[str, Any] = {
        "password": target.password,
        "socket_timeout": timeout,
        "socket_connect_timeout": connect_timeout,
        "retry": retry,
    }
    conn: Any
    try:
        if target.cluster:
            conn = RedisCluster(
                startup_nodes=[
                    ClusterNode(a.host, a.port)  # type: ignore[no-untyped-call]
                    for a in target.addresses
                ],
                require_full_coverage=True,
                **common,
            )
        else:
            only = target.addresses[0]
            if only.unix_socket is not None:
                conn = redis.Redis(unix_socket_path=only.unix_socket, **common)
            else:
                conn = redis.Redis(host=only.host, port=only.port, **common)
        conn.ping()
    except redis.AuthenticationError as exc:
        raise ClientError(
            f"the database at {target.ssdb} rejected the password: {exc} (check SSDB_PASSWORD)"
        ) from exc
    except REDIS_ERRORS as exc:
        kind = "cluster" if target.cluster else "database"
        raise ClientError(
            f"cannot connect to the {kind} at {target.ssdb} within {connect_timeout:g} s: "
            f"{exc or type(exc).__name__}. Is it running, and is SSDB right?"
        ) from exc
    return conn
