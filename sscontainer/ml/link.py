"""The worker's one connection to its shard: several commands per round trip.

A raw RESP socket with hiredis (sscontainer's client's :mod:`~sscontainer.client.wire`),
not redis-py: the worker's loop is a few small commands per job, where redis-py's
connection machinery costs more than the round trip, and the images' Debian redis-py
is older than the API it would need. A round of reports (``SSC.JOBDONE``/``SSC.JOBFAIL``)
travels with the next ``SSC.JOBTAKE`` in one write; the replies come back in order, an
error reply in its place (the connection never falls out of step).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..client.ssdb import Address
from ..client.wire import Connection, ConnectionLost, ServerError, pack
from ..db.address import ServerAddress
from .jobs import TAKE

REPLY_TIMEOUT_S = 30.0  # longer than any blocking SSC.JOBTAKE the worker sends
CONNECT_TIMEOUT_S = 5.0
Command = tuple[Any, ...]
LinkLost = ConnectionLost  # the connection failed: reconnect (the module failed what we held)
__all__ = ["Link", "LinkLost", "ServerError", "open_link"]


def open_link(address: ServerAddress, password: str | None) -> Link:
    """A connected (and authenticated) link; ``OSError``/``ServerError`` when that fails."""
    if address.unix_socket is not None:
        target = Address(socket_path=address.unix_socket)
    else:
        target = Address(host=address.host, port=address.port)
    conn = Connection(target, password, REPLY_TIMEOUT_S)
    conn.open(CONNECT_TIMEOUT_S)
    return Link(conn)


class Link:
    """One connection kept for the worker's loop."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._takes: dict[Command, bytes] = {}  # SSC.JOBTAKE repeats: packed once

    def _packed(self, command: Command, parts: list[bytes | memoryview]) -> None:
        if command[0] != TAKE:
            pack(command, parts)
            return
        packed = self._takes.get(command)
        if packed is None:
            one: list[bytes | memoryview] = []
            pack(command, one)
            packed = self._takes[command] = b"".join(one)
        parts.append(packed)

    def execute(self, commands: Sequence[Command]) -> list[Any]:
        """Send ``commands`` in one write; their replies (``ServerError`` in place) in order."""
        parts: list[bytes | memoryview] = []
        for command in commands:
            self._packed(command, parts)
        if len(parts) > 1 and all(isinstance(p, bytes) for p in parts):
            parts = [b"".join(p for p in parts if isinstance(p, bytes))]  # one small write
        self.conn.send(parts)
        read = self.conn.read_reply
        return [read() for _ in commands]

    def call(self, *args: Any) -> Any:
        return self.conn.call(*args)

    def close(self) -> None:
        self.conn.close()
