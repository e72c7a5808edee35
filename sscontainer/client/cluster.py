"""A Redis Cluster: commands routed by hash slot, as SmartRedis routes them.

The slot map comes from ``CLUSTER SLOTS``; each slot range ("shard") gets the
binary hash-tag prefix SmartRedis gives it (:func:`shard_prefix`), under which
models and scripts are stored once per shard (``{P}.name``) and ``run_model`` /
``run_script`` put their temporary tensors. A ``MOVED``/``ASK`` reply (a reshard
under way) refreshes the map and the command is sent once more.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from redis.crc import key_slot

from .backend import Backend, Command, Timeouts, check_reply, open_connection
from .error import RedisInternalError, RedisRuntimeError
from .ssdb import Address, parse_address
from .tensor_reply import fetch_tensor
from .wire import Arg, Connection, ServerError

_POLY = 0x11021  # CRC16-CCITT (XMODEM), the polynomial of Redis Cluster's key slots
_REDIRECTS = ("MOVED ", "ASK ", "TRYAGAIN")


def shard_prefix(slot: int) -> bytes:
    """The shortest bytes (2 or 3, without braces) whose CRC16 is ``slot``.

    The inverse CRC: clear the 16 low bits of ``slot`` with shifted copies of the
    polynomial, leaving a message M with CRC16(M) == slot; while M contains ``{``
    or ``}``, clear one more bit and take one more byte. SmartRedis derives its
    prefixes the same way, so both clients name a shard's model keys alike.
    """
    if not 0 <= slot <= 16384:
        raise RedisRuntimeError(f"Hash slot {slot} is beyond the limit of 16384.")
    value = slot
    for bit in range(16):
        if value >> bit & 1:
            value ^= _POLY << bit
    shifts, length = 16, 2
    while True:
        candidate = (value >> 16).to_bytes(8, "big")[-length:]
        if b"{" not in candidate and b"}" not in candidate:
            return candidate
        if shifts > 24:
            raise RedisRuntimeError("The maximum bit shifts were exceeded in the CRC16 inverse.")
        if value >> shifts & 1:
            value ^= _POLY << shifts
        shifts += 1
        length = (shifts + 7) // 8


def slot_of(key: str | bytes) -> int:
    return key_slot(key.encode() if isinstance(key, str) else key)


@dataclass(frozen=True)
class Shard:
    """One slot range of ``CLUSTER SLOTS`` and the primary serving it."""

    lower: int
    upper: int
    address: Address
    name: str
    prefix: bytes

    def key(self, key: str | bytes) -> bytes:
        """``{prefix}.key``: a key in this shard's first slot."""
        return b"{" + self.prefix + b"}." + (key.encode() if isinstance(key, str) else key)


def parse_slots(reply: Any) -> list[Shard]:
    """Shards from a ``CLUSTER SLOTS`` reply, lowest slots first."""
    if isinstance(reply, ServerError) or not isinstance(reply, list) or not reply:
        raise RedisRuntimeError(f"CLUSTER SLOTS command failed: {reply}")
    shards = []
    for entry in reply:
        try:
            host, port, name = entry[2][0], entry[2][1], entry[2][2]
            lower = int(entry[0])
            shards.append(Shard(lower, int(entry[1]), Address(host.decode(), int(port)),
                                bytes(name).decode(), shard_prefix(lower)))
        except (IndexError, TypeError, ValueError, AttributeError) as exc:
            raise RedisInternalError(f"unexpected CLUSTER SLOTS entry {entry!r}: {exc}") from None
    return sorted(shards, key=lambda shard: shard.lower)


class Cluster(Backend):
    """Shards found from one seed address; one connection per primary, opened on use."""

    is_cluster = True

    def __init__(self, seed: Address, password: str | None, timeouts: Timeouts) -> None:
        super().__init__(password, timeouts)
        if not seed.is_tcp:
            raise RedisRuntimeError("Unix Domain Socket is not supported with clustered Redis")
        conn = open_connection(seed, password, timeouts)
        self.connections[seed] = conn
        self.shards: list[Shard] = []
        self._lowers: list[int] = []
        self.remap(conn)
        by_address = {shard.address: shard for shard in self.shards}
        self.last = by_address.get(seed, self.shards[0])

    def remap(self, conn: Connection | None = None) -> None:
        """Read the slot map again (from ``conn``, else from the first shard that answers)."""
        if conn is not None:
            reply = conn.call("CLUSTER", "SLOTS")
        else:
            reply, failure = None, None
            for address in dict.fromkeys(shard.address for shard in self.shards):
                try:
                    reply = self.exchange(address, lambda c: c.call("CLUSTER", "SLOTS"))
                    break
                except RuntimeError as exc:  # that shard is gone: ask the next one
                    failure = exc
            if reply is None:
                raise failure or RedisInternalError("no shard left to ask for the slot map")
        self.shards = parse_slots(reply)
        self._lowers = [shard.lower for shard in self.shards]

    def shard_of(self, key: str | bytes) -> Shard:
        slot = slot_of(key)
        index = bisect.bisect_right(self._lowers, slot) - 1
        shard = self.shards[max(index, 0)]
        if not shard.lower <= slot <= shard.upper:
            raise RedisInternalError(f"no shard serves slot {slot} (is the cluster complete?)")
        return shard

    def shard_at(self, address: str) -> Shard:
        wanted = str(parse_address(address))
        for shard in self.shards:
            if str(shard.address) == wanted:
                return shard
        raise RedisRuntimeError(
            f"The provided address does not match a cluster shard address: {wanted} (the "
            f"shards are {', '.join(self.node_addresses())})"
        )

    # --- running commands ----------------------------------------------------------------
    def _redirected(self, replies: Sequence[Any]) -> bool:
        return any(isinstance(r, ServerError) and str(r).startswith(_REDIRECTS) for r in replies)

    def _pipeline_on(self, key: str | bytes, commands: Sequence[Command]) -> list[Any]:
        """Run on ``key``'s shard; after a redirection, remap and rerun once (on the shard
        the new map gives ``key``)."""
        for attempt in (1, 2):
            shard = self.shard_of(key)
            replies = self.exchange(shard.address, lambda conn: conn.pipeline(commands))
            if attempt == 1 and self._redirected(replies):
                self.remap()
                continue
            self.last = shard
            return replies
        raise AssertionError("unreachable")

    def call(self, key: str | bytes, *args: Arg) -> Any:
        return check_reply(self._pipeline_on(key, [args])[0])

    def call_at(self, address: str, *args: Arg) -> Any:
        shard = self.shard_at(address)
        return check_reply(self.exchange(shard.address, lambda conn: conn.call(*args)))

    def call_any(self, *args: Arg) -> Any:
        return check_reply(self.exchange(self.last.address, lambda conn: conn.call(*args)))

    def pipeline(self, key: str | bytes, commands: Sequence[Command]) -> list[Any]:
        return self._pipeline_on(key, commands)

    def scattered(self, keyed: Sequence[tuple[str | bytes, Command]]) -> list[Any]:
        groups: dict[Shard, list[int]] = {}
        for index, (key, _) in enumerate(keyed):
            groups.setdefault(self.shard_of(key), []).append(index)
        replies: list[Any] = [None] * len(keyed)
        for indexes in groups.values():
            commands = [keyed[i][1] for i in indexes]
            shard_replies = self._pipeline_on(keyed[indexes[0]][0], commands)
            for index, reply in zip(indexes, shard_replies, strict=True):
                replies[index] = reply
        return replies

    def tensor(self, key: str | bytes, into: Any = None) -> Any:
        def get(conn: Connection) -> Any:
            return fetch_tensor(conn, key, into)

        reply = self.exchange(self.shard_of(key).address, get)
        if self._redirected([reply]):
            self.remap()
            reply = self.exchange(self.shard_of(key).address, get)
        return check_reply(reply)

    def node_addresses(self) -> list[str]:
        return list(dict.fromkeys(str(shard.address) for shard in self.shards))

    def model_keys(self, key: str) -> list[bytes | str]:
        return [shard.key(key) for shard in self.shards]

    def model_read_key(self, key: str) -> bytes | str:
        return self.shards[0].key(key)

    def describe(self) -> str:
        lines = "".join(f"    {address}\n" for address in self.node_addresses())
        return f"Clustered Redis connection:\n  Redis shards at:\n{lines}  Protocol: TCP\n"
