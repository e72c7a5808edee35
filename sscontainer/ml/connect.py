"""The worker's connection to its shard, once the shard answers with the module loaded."""

from __future__ import annotations

import time

from ..db.address import ServerAddress
from ..errors import DatabaseError
from .jobs import WORKERS
from .link import Link, LinkLost, ServerError, open_link


def _has_module(link: Link) -> bool:
    reply = link.call(WORKERS)
    if isinstance(reply, ServerError):
        if "unknown command" in str(reply).lower():
            return False
        raise reply
    return True


def connect_shard(address: ServerAddress, password: str | None, timeout: float) -> Link:
    """A link to the shard at ``address`` once it answers (DatabaseError after ``timeout`` s,
    or at once when the server does not load sscontainer's module or refuses the password)."""
    deadline = time.monotonic() + timeout
    last: object = "no answer"
    while time.monotonic() < deadline:
        try:
            link = open_link(address, password)
        except ServerError as exc:  # AUTH refused (or the server is not ready for it)
            if "invalid" in str(exc).lower() or "wrongpass" in str(exc).lower():
                raise DatabaseError(
                    f"the database at {address} rejected the password: {exc}"
                ) from exc
            last = exc
        except (OSError, LinkLost) as exc:
            last = exc
        else:
            try:
                reply = link.call("PING")
                if isinstance(reply, ServerError):
                    raise reply
                if not _has_module(link):
                    link.close()
                    raise DatabaseError(
                        f"the database at {address} does not load sscontainer's RedisAI module "
                        "(sscai.so): start it with sscontainer, or add "
                        "'loadmodule <python -m sscontainer.db.redisai>' to its config"
                    )
                return link
            except (LinkLost, ServerError) as exc:  # e.g. LOADING: not ready yet
                link.close()
                last = exc
        time.sleep(0.2)
    raise DatabaseError(f"the database at {address} was not usable within {timeout:g} s: {last}")
