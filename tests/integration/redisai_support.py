"""Shared helpers for the RedisAI-compatible module's tests: servers, raw connections,
Debian's redis-server 7, and the real SmartRedis client (imported lazily)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import redis

from sscontainer.db.local import LocalDatabase
from tests.conftest import require_service
from tests.integration.db_fixtures import require_server

# Where .ci/run unpacks Debian's redis-server (not on PATH: valkey stays the default)
REDIS7_ENV = "SSCONTAINER_REDIS7_SERVER"
REDIS7_PATHS = ("/opt/redis7/usr/bin/redis-server", "/usr/bin/redis-server")


def redis7_server() -> str | None:
    """Debian's redis-server 7 binary, if this machine has one."""
    candidates = [os.environ.get(REDIS7_ENV, ""), *REDIS7_PATHS]
    for path in candidates:
        if not path or not os.access(path, os.X_OK):
            continue
        proc = subprocess.run([path, "--version"], capture_output=True, text=True, check=False)
        if proc.returncode == 0 and "v=7." in proc.stdout:
            return path
    return None


def require_redis7() -> str:
    path = redis7_server()
    require_service(path is not None, "Debian's redis-server 7",
                    f"apt-get download redis-server redis-tools and unpack them under /opt/redis7 "
                    f"(as .ci/run does), or set {REDIS7_ENV}")
    assert path is not None
    return path


def require_smartredis() -> Any:
    try:
        import smartredis
    except ImportError:
        smartredis = None
    require_service(smartredis is not None, "the SmartRedis client",
                    "pip install smartredis==0.6.1 (the test extra)")
    return smartredis


def raw(db: LocalDatabase, index: int = 0, **kwargs: Any) -> redis.Redis:
    """A plain redis-py connection to one shard (RESP2, bytes replies)."""
    address = db.addresses[index]
    common: dict[str, Any] = {"socket_timeout": 30, "protocol": 2, **kwargs}  # as SmartRedis
    if address.unix_socket:
        return redis.Redis(unix_socket_path=address.unix_socket, **common)
    return redis.Redis(host=address.host, port=address.port, **common)


@contextmanager
def module_db(db_nodes: int = 1, **kwargs: Any) -> Iterator[LocalDatabase]:
    """A database whose shards load the module (``redisai_args`` etc. as LocalDatabase)."""
    require_server()
    db = LocalDatabase(db_nodes=db_nodes, **kwargs).start()
    try:
        yield db
    finally:
        db.stop()


def smartredis_env(db: LocalDatabase, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """SSDB/SR_DB_TYPE for a SmartRedis client of ``db`` (and a socket timeout that does not
    re-send slow commands)."""
    env = {"SSDB": db.ssdb, "SR_DB_TYPE": db.db_type, "SR_SOCKET_TIMEOUT": "30000",
           "SR_LOG_LEVEL": "QUIET"}
    env.update(extra or {})
    return env


def sr_client(db: LocalDatabase) -> Any:
    """A real SmartRedis client of ``db`` (its legacy ``Client(cluster, address)`` form).

    SR_SOCKET_TIMEOUT is raised so a slow model run is not re-sent (SmartRedis re-sends a
    command after 250 ms by default); logging is quiet.
    """
    smartredis = require_smartredis()
    os.environ["SR_SOCKET_TIMEOUT"] = "30000"
    os.environ["SR_LOG_LEVEL"] = "QUIET"
    return smartredis.Client(db.is_cluster, db.ssdb)


@contextmanager
def kind_db(kind: str, **kwargs: Any) -> Iterator[LocalDatabase]:
    """A standalone ("standalone"), Unix-socket ("uds") or 3-shard ("cluster") database."""
    from tests.integration.db_fixtures import short_tmpdir

    if kind == "cluster":
        with module_db(3, **kwargs) as db:
            yield db
        return
    if kind == "uds":
        sock_dir = short_tmpdir()
        try:
            with module_db(unix_socket=os.path.join(sock_dir, "db.sock"), **kwargs) as db:
                yield db
        finally:
            os.rmdir(sock_dir)
        return
    with module_db(**kwargs) as db:
        yield db


DB_KINDS = ("standalone", "uds", "cluster")
