"""The worker's connection to its shard, once the shard answers with the module loaded."""

from __future__ import annotations

import time

import redis

from ..db.address import ServerAddress
from ..errors import DatabaseError
from .jobs import WORKERS
from .link import shard_client

_ERRORS = (redis.RedisError, OSError)


def _has_module(client: redis.Redis) -> bool:
    try:
        client.execute_command(WORKERS)  # type: ignore[no-untyped-call]
    except redis.ResponseError as exc:
        if "unknown command" in str(exc).lower():
            return False
        raise
    return True


def connect_shard(address: ServerAddress, password: str | None, timeout: float) -> redis.Redis:
    """A client of the shard at ``address`` once it answers (DatabaseError after ``timeout`` s,
    or at once when the server does not load sscontainer's module)."""
    deadline = time.monotonic() + timeout
    last: object = "no answer"
    client = shard_client(address, password)
    while time.monotonic() < deadline:
        try:
            client.ping()
            if not _has_module(client):
                client.close()
                raise DatabaseError(
                    f"the database at {address} does not load sscontainer's RedisAI module "
                    "(sscai.so): start it with sscontainer, or add "
                    "'loadmodule <python -m sscontainer.db.redisai>' to its config"
                )
            return client
        except redis.AuthenticationError as exc:
            client.close()
            raise DatabaseError(f"the database at {address} rejected the password: {exc}") from exc
        except _ERRORS as exc:
            last = exc
        time.sleep(0.2)
    client.close()
    raise DatabaseError(f"the database at {address} was not usable within {timeout:g} s: {last}")
