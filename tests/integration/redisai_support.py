"""Shared helpers for the RedisAI-compatible module's tests: servers, raw connections,
Debian's redis-server 7, and the real SmartRedis client (imported lazily).

Fixtures (import them by name): ``db`` (one module-loading database of each kind in
``DB_KINDS``), ``client`` (a SmartRedis client of ``db``, flushed for each test) and
``conn`` (a raw connection to a module-loading standalone database).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pytest
import redis

from sscontainer.db.local import LocalDatabase
from tests.conftest import require_service, scoped_environ
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
    # SmartRedis reads these when the client is made: set them for that moment only, so
    # nothing launched later by this test process inherits them (a quiet SR_LOG_LEVEL
    # silenced the producer/consumer example's consumer in a later Slurm test)
    with scoped_environ({"SR_SOCKET_TIMEOUT": "30000", "SR_LOG_LEVEL": "QUIET"}):
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


@pytest.fixture(scope="module", params=DB_KINDS)
def db(request: pytest.FixtureRequest) -> Iterator[LocalDatabase]:
    require_smartredis()
    with kind_db(request.param) as database:
        yield database


@pytest.fixture
def client(db: LocalDatabase) -> Any:
    c = sr_client(db)
    c.flush_db([str(a) for a in db.addresses])
    return c


@pytest.fixture(scope="module")
def conn() -> Iterator[redis.Redis]:
    with module_db() as database:
        connection = raw(database)
        yield connection
        connection.close()


@contextmanager
def workers_for(db: LocalDatabase, devices: tuple[str, ...] = ("CPU",),
                env: Mapping[str, str] | None = None) -> Iterator[list[Any]]:
    """Real inference worker processes, one per shard and device; their logs on failure."""
    import shutil
    import tempfile

    from sscontainer.ml.processes import start_worker, stop_workers

    log_dir = tempfile.mkdtemp(prefix="ssc-workers-")
    with scoped_environ(env or {}):
        procs = [
            start_worker(str(address), device, log_path=os.path.join(log_dir, f"w{i}-{n}.log"))
            for i, address in enumerate(db.addresses) for n, device in enumerate(devices)
        ]
    try:
        yield procs
    finally:
        stop_workers(procs)
        shutil.rmtree(log_dir, ignore_errors=True)


def wait_for_workers(db: LocalDatabase, count: int = 1, device: str = "CPU",
                     timeout: float = 60.0) -> None:
    """Until every shard has ``count`` workers registered for ``device`` (SSC.WORKERS)."""
    import time

    deadline = time.monotonic() + timeout
    for index in range(len(db.addresses)):
        conn = raw(db, index)
        try:
            while True:
                rows = {r[0].decode(): int(r[1]) for r in conn.execute_command("SSC.WORKERS")}
                if rows.get(device, 0) >= count:
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"no {device} worker registered on shard {index}: {rows}")
                time.sleep(0.05)
        finally:
            conn.close()


def queue_state(db: LocalDatabase, index: int = 0) -> dict[str, tuple[int, int, int]]:
    """SSC.WORKERS of one shard: device -> (workers, queued, running)."""
    conn = raw(db, index)
    try:
        return {r[0].decode(): (int(r[1]), int(r[2]), int(r[3]))
                for r in conn.execute_command("SSC.WORKERS")}
    finally:
        conn.close()


def hash_tag(db: LocalDatabase, index: int = 0) -> str:
    """A key prefix ``{...}`` whose slot shard ``index`` owns ("" for a standalone database)."""
    if not db.is_cluster:
        return ""
    from redis.crc import key_slot

    conn = raw(db, index)
    try:
        my_id = conn.execute_command("CLUSTER", "MYID")
        my_id = my_id.decode() if isinstance(my_id, bytes) else my_id
        ranges = []
        for entry in conn.execute_command("CLUSTER", "SLOTS"):
            node = entry[2][2]
            if (node.decode() if isinstance(node, bytes) else node) == my_id:
                ranges.append((int(entry[0]), int(entry[1])))
    finally:
        conn.close()
    for i in range(100_000):
        slot = key_slot(f"t{i}".encode())
        if any(lo <= slot <= hi for lo, hi in ranges):
            return f"{{t{i}}}"
    raise AssertionError(f"no hash tag maps to shard {index}")
