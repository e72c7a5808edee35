"""A standalone database (one server, TCP or Unix socket): every command on one connection."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .backend import Backend, Command, Timeouts, check_reply, open_connection
from .error import RedisRuntimeError
from .ssdb import Address, parse_address
from .tensor_reply import fetch_tensor
from .wire import Arg


class Standalone(Backend):
    """One server; connected (and PINGed) on creation, as SmartRedis does."""

    def __init__(self, address: Address, password: str | None, timeouts: Timeouts) -> None:
        super().__init__(password, timeouts)
        self.address = address
        conn = open_connection(address, password, timeouts)
        self.connections[address] = conn
        check_reply(conn.call("PING"))

    def _on(self, action: Any) -> Any:
        return self.exchange(self.address, action)

    def call(self, key: str | bytes, *args: Arg) -> Any:
        return self.call_any(*args)  # one server holds every key

    def call_any(self, *args: Arg) -> Any:
        return check_reply(self._on(lambda conn: conn.call(*args)))

    def check_address(self, address: str) -> None:
        """SmartRedis accepts only the address this client connected to."""
        received = parse_address(address)
        if str(received) != str(self.address):
            raise RedisRuntimeError(
                "The provided address does not match the address used to initialize the "
                f"non-cluster client connection. Received: {received} "
                f"(this client uses {self.address})"
            )

    def call_at(self, address: str, *args: Arg) -> Any:
        self.check_address(address)
        return self.call_any(*args)

    def pipeline(self, key: str | bytes, commands: Sequence[Command]) -> list[Any]:
        return list(self._on(lambda conn: conn.pipeline(commands)))

    def scattered(self, keyed: Sequence[tuple[str | bytes, Command]]) -> list[Any]:
        return self.pipeline("", [command for _, command in keyed])

    def tensor(self, key: str | bytes, into: Any = None) -> Any:
        return check_reply(self._on(lambda conn: fetch_tensor(conn, key, into)))

    def node_addresses(self) -> list[str]:
        return [str(self.address)]

    def describe(self) -> str:
        kind = "TCP" if self.address.is_tcp else "Unix Domain Socket"
        return (
            f"Non-clustered Redis connection:\n  Redis shards at:\n    {self.address}\n"
            f"  Protocol: {kind}\n"
        )
