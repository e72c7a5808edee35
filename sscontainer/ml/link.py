"""The worker's one connection to its shard: several commands per round trip.

A round of reports (``SSC.JOBDONE``/``SSC.JOBFAIL``) travels with the next
``SSC.JOBTAKE`` in one write; the replies come back in order, an error reply in its
place (the connection never falls out of step). redis-py's ``Pipeline`` costs more
than the round trip itself for these few commands.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import redis

from ..db.address import ServerAddress

SOCKET_TIMEOUT_S = 30.0  # longer than any blocking SSC.JOBTAKE the worker sends
Command = tuple[Any, ...]


def shard_client(address: ServerAddress, password: str | None) -> redis.Redis:
    common: dict[str, Any] = {
        "password": password, "socket_timeout": SOCKET_TIMEOUT_S, "socket_connect_timeout": 5.0,
        "protocol": 2, "retry": None,
    }
    if address.unix_socket is not None:
        return redis.Redis(unix_socket_path=address.unix_socket, **common)
    return redis.Redis(host=address.host, port=address.port, **common)


class Link:
    """One connection of ``client`` kept for the worker's loop."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self._conn: Any = client.connection_pool.get_connection()

    def execute(self, commands: Sequence[Command]) -> list[Any]:
        """Send ``commands`` in one write; their replies (or ResponseErrors) in order."""
        conn = self._conn
        try:
            conn.send_packed_command(conn.pack_commands(commands))
            replies: list[Any] = []
            for _ in commands:
                try:
                    replies.append(conn.read_response())
                except redis.ResponseError as exc:  # this reply only; the others follow
                    replies.append(exc)
            return replies
        except BaseException:
            conn.disconnect()  # a half-read reply must not reach the next round
            raise

    def close(self) -> None:
        self._conn.disconnect()
        self.client.connection_pool.release(self._conn)
        self.client.close()
