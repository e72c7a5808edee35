"""The worker's connections: its own shard, the cluster (when there is one), its heartbeat."""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import redis
from redis.cluster import ClusterNode, RedisCluster
from redis.exceptions import RedisClusterException

from ..db.address import ServerAddress
from ..errors import DatabaseError
from .protocol import (
    ALIVE_TTL_MS,
    HEARTBEAT_S,
    STANDALONE_TAG,
    alive_key,
    in_ranges,
    ranges_of,
    tag_for,
)

SOCKET_TIMEOUT_S = 30.0  # longer than any blocking read the worker issues
_ERRORS = (redis.RedisError, RedisClusterException, OSError)


def shard_connection(address: ServerAddress, password: str | None) -> redis.Redis:
    common: dict[str, Any] = {
        "password": password, "socket_timeout": SOCKET_TIMEOUT_S, "socket_connect_timeout": 5.0,
    }
    if address.unix_socket is not None:
        return redis.Redis(unix_socket_path=address.unix_socket, **common)
    return redis.Redis(host=address.host, port=address.port, **common)


def _own_tag(local: Any) -> str | None:
    """This shard's queue tag, or None while the cluster gives it no slots yet."""
    my_id = local.execute_command("CLUSTER", "MYID")
    ranges = ranges_of(local.execute_command("CLUSTER", "SLOTS"), my_id)
    return tag_for(in_ranges(ranges)) if ranges else None


def connect_worker(
    address: ServerAddress, password: str | None, timeout: float
) -> tuple[Any, str]:
    """``(client, queue tag)`` once the shard answers (and, in a cluster, owns slots)."""
    deadline = time.monotonic() + timeout
    last: object = "no answer"
    local = shard_connection(address, password)
    while time.monotonic() < deadline:
        try:
            if not local.info("cluster").get("cluster_enabled"):
                return local, STANDALONE_TAG
            tag = _own_tag(local)
            if tag is not None:
                cluster = RedisCluster(
                    startup_nodes=[ClusterNode(address.host, address.port)],  # type: ignore[no-untyped-call]
                    password=password, socket_timeout=SOCKET_TIMEOUT_S,
                    socket_connect_timeout=5.0,
                )
                return cluster, tag
            last = "the shard owns no hash slots yet"
        except redis.AuthenticationError as exc:
            raise DatabaseError(f"the database at {address} rejected the password: {exc}") from exc
        except _ERRORS as exc:
            last = exc
        time.sleep(0.2)
    raise DatabaseError(f"the database at {address} was not usable within {timeout:g} s: {last}")


def heartbeat(
    address: ServerAddress, password: str | None, device: str, tag: str, stop: threading.Event
) -> None:
    """Refresh this worker's alive key every second until ``stop``; clients check it."""
    conn = shard_connection(address, password)
    key = alive_key(device, tag)
    while not stop.is_set():
        try:
            conn.set(key, str(os.getpid()), px=ALIVE_TTL_MS)
        except _ERRORS:
            pass  # the main loop decides when the database is gone
        stop.wait(HEARTBEAT_S)
    try:
        conn.delete(key)
    except _ERRORS:
        pass
