"""What a Client sends its commands through: one server, or a Redis Cluster's shards.

Both kinds answer the same questions (run this command for this key, on this node,
on any node; run these commands in one pipeline; read this tensor), so the Client
code is the same for both. Failures become SmartRedis's exceptions here: an error
reply is a ``RedisRuntimeError`` carrying the server's text; a connection that
breaks is reopened and the command sent once more (a bounded retry, never after a
timeout, so a slow command is not run twice); then ``RedisDatabaseError``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from .error import RedisConnectionError, RedisDatabaseError, RedisRuntimeError
from .ssdb import Address
from .wire import SMALLEST_VALUE_LIMIT, Arg, Connection, ConnectionLost, ReplyTimeout, ServerError

T = TypeVar("T")
Command = Sequence[Arg]


@dataclass(frozen=True)
class Timeouts:
    """How long to try to connect, and how long any one read or write may take (s)."""

    connect: float
    connect_interval: float
    reply: float


def open_connection(address: Address, password: str | None, timeouts: Timeouts) -> Connection:
    """A connected :class:`Connection`, trying until ``timeouts.connect`` has passed."""
    conn = Connection(address, password, timeouts.reply)
    deadline = time.monotonic() + timeouts.connect
    while True:
        try:
            conn.open(max(deadline - time.monotonic(), 0.05))  # no try outlasts the window
            return conn
        except ServerError as exc:  # AUTH refused: retrying will not help
            raise RedisConnectionError(
                f"Unable to connect to backend database at {address}: {exc}"
                + (" (check SSDB_PASSWORD)" if "pass" in str(exc).lower() else "")
            ) from None
        except (OSError, ConnectionLost) as exc:
            if time.monotonic() + timeouts.connect_interval > deadline:
                raise RedisConnectionError(
                    f"Unable to connect to backend database at {address} within "
                    f"{timeouts.connect:g} s (SR_CONN_TIMEOUT): {exc}. Is it running, and is "
                    "SSDB right?"
                ) from None
            time.sleep(timeouts.connect_interval)


RAISE_VALUE_LIMIT = (
    "raise it with the driver's Orchestrator.set_max_message_size(bytes), or with "
    "Client.config_set('proto-max-bulk-len', bytes, address) on every shard"
)


def check_reply(reply: Any, pipeline: bool = False) -> Any:
    """``reply``, or the ``RedisRuntimeError`` SmartRedis raises for an error reply."""
    if isinstance(reply, ServerError):
        where = "the pipeline" if pipeline else "command"
        hint = ""
        if "invalid bulk length" in str(reply):  # a value over proto-max-bulk-len
            hint = f" (a value over the database's proto-max-bulk-len: {RAISE_VALUE_LIMIT})"
        raise RedisRuntimeError(f"Redis error when executing {where}: {reply}{hint}")
    return reply


def value_limit(address: Address, password: str | None, timeouts: Timeouts) -> int | None:
    """The server's ``proto-max-bulk-len`` (bytes), None when it cannot be read."""
    try:
        conn = open_connection(address, password, timeouts)
    except RedisConnectionError:
        return None
    try:
        reply = conn.call("CONFIG", "GET", "proto-max-bulk-len")
        return int(reply[1]) if isinstance(reply, list) and len(reply) == 2 else None
    except (ConnectionLost, ValueError):
        return None
    finally:
        conn.close()


class Backend:
    """The part both kinds share: one exchange on a node, with a bounded retry."""

    is_cluster = False

    def __init__(self, password: str | None, timeouts: Timeouts) -> None:
        self.password = password
        self.timeouts = timeouts
        self.connections: dict[Address, Connection] = {}
        self._lock = threading.Lock()  # one exchange at a time: a Client may be shared

    def connection(self, address: Address) -> Connection:
        conn = self.connections.get(address)
        if conn is None or conn.sock is None:
            try:
                conn = open_connection(address, self.password, self.timeouts)
            except RedisConnectionError as exc:
                raise RedisDatabaseError(str(exc).split("\n")[0]) from None
            self.connections[address] = conn
        return conn

    def exchange(self, address: Address, action: Callable[[Connection], T]) -> T:
        """``action(connection)``; after a broken connection, once more on a new one."""
        with self._lock:
            return self._exchange(address, action)

    def _exchange(self, address: Address, action: Callable[[Connection], T]) -> T:
        for attempt in (1, 2):
            conn = self.connection(address)
            try:
                return action(conn)
            except ReplyTimeout as exc:
                raise RedisDatabaseError(
                    f"Redis IO error when executing command on {address}: {exc}"
                ) from None
            except ConnectionLost as exc:
                conn.close()
                self._refuse_oversized(address, conn)
                if attempt == 2:
                    raise RedisDatabaseError(
                        f"Redis IO error when executing command on {address}: {exc}"
                    ) from None
        raise AssertionError("unreachable")

    def _refuse_oversized(self, address: Address, conn: Connection) -> None:
        """A value over the server's size limit makes it drop the connection: say so
        (naming the limit and how to raise it) instead of sending it again."""
        size, conn.largest_unsent = conn.largest_unsent, 0
        if size <= SMALLEST_VALUE_LIMIT:
            return
        limit = value_limit(address, self.password, self.timeouts)
        if limit is not None and size > limit:
            raise RedisDatabaseError(
                f"Redis IO error when executing command on {address}: a value of {size} "
                f"bytes is over the database's proto-max-bulk-len ({limit} bytes), so the "
                f"server closed the connection; {RAISE_VALUE_LIMIT}"
            )

    def close(self) -> None:
        for conn in self.connections.values():
            conn.close()
        self.connections.clear()

    # --- the interface the Client uses (see Standalone and Cluster) ------------------------
    def call(self, key: str | bytes, *args: Arg) -> Any:
        """Run one command on the node holding ``key``; its reply (errors raised)."""
        raise NotImplementedError

    def call_at(self, address: str, *args: Arg) -> Any:
        """Run one command on the node ``address`` (as SmartRedis spells it)."""
        raise NotImplementedError

    def call_any(self, *args: Arg) -> Any:
        raise NotImplementedError

    def pipeline(self, key: str | bytes, commands: Sequence[Command]) -> list[Any]:
        """Run ``commands`` in one pipeline on ``key``'s node; replies, errors in place."""
        raise NotImplementedError

    def scattered(self, keyed: Sequence[tuple[str | bytes, Command]]) -> list[Any]:
        """Run single-key commands, one pipeline per node; replies in the given order."""
        raise NotImplementedError

    def tensor(self, key: str | bytes, into: Any = None) -> Any:
        """The reply to ``AI.TENSORGET key META BLOB`` (an array when it is a tensor)."""
        raise NotImplementedError

    def node_addresses(self) -> list[str]:
        raise NotImplementedError

    def model_keys(self, key: str) -> list[bytes | str]:
        """The keys a model/script is stored under (one per shard in a cluster)."""
        return [key]

    def model_read_key(self, key: str) -> bytes | str:
        """The key ``get_model``/``model_exists`` read."""
        return key

    def describe(self) -> str:
        raise NotImplementedError
