"""Live configuration of running shards (``CONFIG SET`` on every one of them).

The method names follow SmartSim's ``Orchestrator`` so the entity can delegate
to a :class:`LiveConfig` one to one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import redis

from ..errors import DatabaseError, SSConfigError
from .address import ServerAddress
from .server import admin_connection

EVICTION_POLICIES = (
    "volatile-lru", "allkeys-lru", "volatile-lfu", "allkeys-lfu",
    "volatile-random", "allkeys-random", "volatile-ttl", "noeviction",
)
_MEMORY = re.compile(r"\d+(b|k|kb|m|mb|g|gb)?", re.IGNORECASE)
_CONF_KEY = re.compile(r"[a-z][a-z0-9-]*")


class LiveConfig:
    """Applies settings to every shard of a running database."""

    def __init__(
        self,
        addresses: Sequence[ServerAddress],
        password: str | None = None,
        timeout: float = 5.0,
    ) -> None:
        if not addresses:
            raise SSConfigError("LiveConfig needs at least one database address")
        self.addresses = list(addresses)
        self.password = password
        self.timeout = timeout

    def set_db_conf(self, key: str, value: str) -> None:
        """``CONFIG SET key value`` on every shard; a refusal names the shard and reason."""
        if not isinstance(key, str) or not _CONF_KEY.fullmatch(key):
            raise SSConfigError(f"{key!r} is not a server configuration name (e.g. maxclients)")
        if not isinstance(value, str):
            raise SSConfigError(f"the value for {key} must be a string, got {value!r}")
        for address in self.addresses:
            conn = admin_connection(address, self.password, self.timeout)
            try:
                conn.config_set(key, value)
            except redis.ResponseError as exc:
                raise DatabaseError(
                    f"the database at {address} refused CONFIG SET {key} {value!r}: {exc}"
                ) from exc
            except redis.RedisError as exc:
                raise DatabaseError(
                    f"could not reach the database at {address} to set {key}: {exc}"
                ) from exc
            finally:
                conn.close()

    def get_db_conf(self, key: str) -> dict[str, str]:
        """The current value of ``key`` on each shard, keyed by address."""
        values: dict[str, str] = {}
        for address in self.addresses:
            conn = admin_connection(address, self.password, self.timeout)
            try:
                reply = conn.config_get(key)
            except redis.RedisError as exc:
                raise DatabaseError(f"CONFIG GET {key} failed on {address}: {exc}") from exc
            finally:
                conn.close()
            values[str(address)] = str(reply.get(key, ""))
        return values

    def set_max_memory(self, mem: str) -> None:
        """Memory limit per shard, e.g. ``"3gb"`` (``"0"`` = no limit)."""
        if not isinstance(mem, str) or not _MEMORY.fullmatch(mem.strip()):
            raise SSConfigError(f"max memory {mem!r}: use a size such as '3gb', '512mb' or '0'")
        self.set_db_conf("maxmemory", mem.strip())

    def set_eviction_strategy(self, strategy: str) -> None:
        """What to evict once max memory is reached (``maxmemory-policy``)."""
        if strategy not in EVICTION_POLICIES:
            raise SSConfigError(
                f"eviction strategy {strategy!r}: use one of {', '.join(EVICTION_POLICIES)}"
            )
        self.set_db_conf("maxmemory-policy", strategy)

    def set_max_clients(self, clients: int = 50_000) -> None:
        """Most simultaneous client connections per shard."""
        if isinstance(clients, bool) or not isinstance(clients, int) or clients < 1:
            raise SSConfigError(f"max clients must be a positive integer, got {clients!r}")
        self.set_db_conf("maxclients", str(clients))

    def set_max_message_size(self, size: int = 1_073_741_824) -> None:
        """Largest single value (``proto-max-bulk-len``, bytes; at least 1 MiB)."""
        if isinstance(size, bool) or not isinstance(size, int) or size < 1_048_576:
            raise SSConfigError(f"max message size must be an int >= 1048576 bytes, got {size!r}")
        self.set_db_conf("proto-max-bulk-len", str(size))

    def enable_checkpoints(self, frequency: int) -> None:
        """Save a snapshot every ``frequency`` seconds when at least one key changed."""
        if isinstance(frequency, bool) or not isinstance(frequency, int) or frequency < 1:
            raise SSConfigError(
                f"checkpoint frequency must be a positive number of seconds, got {frequency!r}"
            )
        self.set_db_conf("save", f"{frequency} 1")
