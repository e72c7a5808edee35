"""Real server processes: start, readiness, failures with the server's own words, shutdown."""

from __future__ import annotations

import os
import signal
import socket
import stat
import time

import pytest
import redis

from sscontainer.client import Client
from sscontainer.db.address import ServerAddress, find_free_port
from sscontainer.db.local import LocalDatabase
from sscontainer.db.server import ping, server_pid, shutdown, wait_until_ready
from sscontainer.errors import ClientError, DatabaseError, SSConfigError
from tests.integration.db_fixtures import process_gone, require_server, short_tmpdir


@pytest.fixture(autouse=True)
def _server() -> None:
    require_server()


def test_standalone_start_and_stop_leaves_nothing() -> None:
    db = LocalDatabase(db_nodes=1).start()
    address = db.addresses[0]
    pid = db.shards[0].pid
    base_dir = db.base_dir
    assert ping(address)
    assert server_pid(address) == pid
    assert db.env == {"SSDB": str(address), "SR_DB_TYPE": "Standalone"}
    db.stop()
    assert process_gone(pid)
    assert not ping(address)
    assert not os.path.exists(base_dir)


def test_unix_socket_with_permissions() -> None:
    sock_dir = short_tmpdir()
    path = os.path.join(sock_dir, "db.sock")
    try:
        with LocalDatabase(unix_socket=path, socket_permissions=0o770) as db:
            assert db.ssdb == "unix://" + path
            assert stat.S_ISSOCK(os.stat(path).st_mode)
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o770
            conn = redis.Redis(unix_socket_path=path, socket_timeout=2)
            assert conn.config_get("port") == {"port": "0"}  # no TCP listener at all
            conn.close()
        assert not os.path.exists(path)
    finally:
        os.rmdir(sock_dir)


def test_busy_port_is_a_database_error_with_the_server_log_line() -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        db = LocalDatabase(port=port)
        with pytest.raises(DatabaseError) as info:
            db.start()
    message = str(info.value)
    assert "Address already in use" in message
    assert str(port) in message
    assert db.shards == []


def test_crashing_server_reports_its_config_error() -> None:
    db = LocalDatabase(server_conf={"no-such-directive": "1"})
    with pytest.raises(DatabaseError) as info:
        db.start()
    message = str(info.value)
    assert "exited with status" in message
    assert "no-such-directive" in message


def test_another_server_on_the_port_is_not_mistaken_for_ours() -> None:
    with LocalDatabase() as first:
        port = first.addresses[0].port
        with pytest.raises(DatabaseError) as info:
            LocalDatabase(port=port).start()
        assert "Address already in use" in str(info.value)
        assert ping(first.addresses[0])  # the first server is untouched


def test_two_nodes_are_rejected_with_the_reason() -> None:
    with pytest.raises(SSConfigError, match="at least 3 master shards"):
        LocalDatabase(db_nodes=2)


def _up_address() -> str | None:
    """A non-loopback IPv4 address of this host on an interface that is up."""
    from sscontainer.db.nodes import host_addresses

    for name, address in host_addresses().items():
        try:
            with open(f"/sys/class/net/{name}/operstate") as handle:
                up = handle.read().strip() in ("up", "unknown")
        except OSError:
            up = False
        if up and not address.startswith("127."):
            return address
    return None


def test_non_loopback_bind_without_password_serves_remote_clients() -> None:
    # SmartRedis cannot authenticate, so no password by default: the server's own protected
    # mode must not refuse clients that come from beyond loopback either
    address = _up_address()
    if address is None:
        pytest.skip("this host has no non-loopback interface that is up")
    with LocalDatabase(bind="0.0.0.0") as db:
        conn = redis.Redis(host=address, port=db.addresses[0].port, socket_timeout=5)
        assert conn.ping()
        conn.close()


def test_password_protected_database(monkeypatch: pytest.MonkeyPatch) -> None:
    with LocalDatabase(password="s3cret pass") as db:
        assert db.env["SSDB_PASSWORD"] == "s3cret pass"
        monkeypatch.delenv("SSDB_PASSWORD", raising=False)
        with pytest.raises(ClientError, match="cannot connect|password|AUTH"):
            Client(address=db.ssdb, cluster=False, timeout=2)
        monkeypatch.setenv("SSDB_PASSWORD", "s3cret pass")
        with Client(address=db.ssdb, cluster=False) as client:
            assert client.key_exists("nothing") is False
        with open(os.path.join(db.shards[0].cwd or "", "server.conf")) as handle:
            assert "requirepass" in handle.read()
        with open(f"/proc/{db.shards[0].pid}/cmdline", "rb") as handle:
            assert b"s3cret" not in handle.read()


def test_live_config_on_a_standalone_server() -> None:
    with LocalDatabase() as db:
        live = db.live_config()
        live.set_max_memory("64mb")
        live.set_eviction_strategy("allkeys-lru")
        live.set_max_clients(1234)
        live.set_max_message_size(2_097_152)
        live.enable_checkpoints(900)
        live.set_db_conf("timeout", "30")
        conn = redis.Redis(host=db.addresses[0].host, port=db.addresses[0].port,
                           decode_responses=True)
        got = conn.config_get("*")
        conn.close()
        assert got["maxmemory"] == str(64 * 1024 * 1024)
        assert got["maxmemory-policy"] == "allkeys-lru"
        assert got["maxclients"] == "1234"
        assert got["proto-max-bulk-len"] == "2097152"
        assert got["save"] == "900 1"
        assert got["timeout"] == "30"
        with pytest.raises(SSConfigError, match="eviction strategy"):
            live.set_eviction_strategy("evict-everything")
        with pytest.raises(SSConfigError, match="size"):
            live.set_max_memory("lots")
        with pytest.raises(DatabaseError, match="refused CONFIG SET"):
            live.set_db_conf("maxclients", "minus-one")


def test_wait_until_ready_times_out_with_a_clear_error() -> None:
    port = find_free_port()
    with pytest.raises(DatabaseError, match="did not answer PING within 1 s"):
        wait_until_ready(ServerAddress("127.0.0.1", port), timeout=1.0)


def test_shutdown_command_and_sigkill_cleanup() -> None:
    db = LocalDatabase().start()
    try:
        address = db.addresses[0]
        shutdown(address)
        deadline = time.monotonic() + 10
        while db.shards[0].poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert db.shards[0].returncode == 0
        assert not ping(address)
        shutdown(address)  # already gone: not an error
    finally:
        db.stop()
    sock_dir = short_tmpdir()
    path = os.path.join(sock_dir, "k.sock")
    killed = LocalDatabase(unix_socket=path).start()
    os.kill(killed.shards[0].pid, signal.SIGKILL)
    killed.stop()
    assert not os.path.exists(path)  # a killed server's stale socket is removed too
    os.rmdir(sock_dir)
