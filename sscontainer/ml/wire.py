"""Sending a few commands in one round trip, without redis-py's pipeline machinery.

A run is a handful of small commands on the hot path of every request; redis-py's
``Pipeline`` costs more than the round trip itself for them. :func:`execute` packs
the commands onto one connection of a standalone client and reads every reply
(an error reply is returned in its place, so the connection never falls out of
step). A ``RedisCluster`` gets an ordinary cluster pipeline, which routes each
command to its shard. Replies are raw (``BLPOP``: ``[key, value]`` or a tuple).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import redis
from redis.cluster import RedisCluster

Command = tuple[Any, ...]


def _read_all(conn: Any, count: int) -> list[Any]:
    replies: list[Any] = []
    for _ in range(count):
        try:
            replies.append(conn.read_response())
        except redis.ResponseError as exc:  # this reply only; the next ones still follow
            replies.append(exc)
    return replies


def execute(db: Any, commands: Sequence[Command], conn: Any = None) -> list[Any]:
    """Run ``commands`` in one round trip on ``db``; their replies in order.

    ``conn``: a connection of ``db`` the caller holds (standalone only); without one,
    a connection is borrowed from ``db``'s pool for the call.
    """
    if isinstance(db, RedisCluster):
        cluster: Any = db  # its pipeline() is untyped
        pipe = cluster.pipeline(transaction=False)
        for command in commands:
            pipe.execute_command(*command)
        return list(pipe.execute(raise_on_error=False))
    own = conn is None
    if own:
        conn = db.connection_pool.get_connection()
    try:
        conn.send_packed_command(conn.pack_commands(commands))
        return _read_all(conn, len(commands))
    except BaseException:
        conn.disconnect()  # a half-read reply must not reach the next caller
        raise
    finally:
        if own:
            db.connection_pool.release(conn)


class Line:
    """A connection of a standalone client kept for one user (the worker's own line)."""

    def __init__(self, db: Any) -> None:
        self.db = db
        self._conn: Any = None

    def execute(self, commands: Sequence[Command]) -> list[Any]:
        if isinstance(self.db, RedisCluster):
            return execute(self.db, commands)
        if self._conn is None:
            self._conn = self.db.connection_pool.get_connection()
        return execute(self.db, commands, self._conn)
