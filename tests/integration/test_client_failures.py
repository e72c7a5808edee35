"""Failures: wrong SSDB, a server killed or frozen mid-run. Errors come quickly and say why."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

from sscontainer.client import Client
from sscontainer.db.address import find_free_port
from sscontainer.db.local import LocalDatabase
from sscontainer.errors import ClientError
from tests.integration.db_fixtures import require_server, short_tmpdir


@pytest.fixture(autouse=True)
def _server() -> None:
    require_server()


@pytest.mark.timeout(30)
def test_wrong_ssdb_port_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    port = find_free_port()
    monkeypatch.setenv("SSDB", f"127.0.0.1:{port}")
    monkeypatch.setenv("SR_DB_TYPE", "Standalone")
    with pytest.raises(ClientError) as info:
        Client(timeout=2)
    message = str(info.value)
    assert f"127.0.0.1:{port}" in message
    assert "Is it running, and is SSDB right?" in message


@pytest.mark.timeout(30)
def test_wrong_cluster_and_socket_addresses() -> None:
    ports = [find_free_port() for _ in range(3)]
    with pytest.raises(ClientError, match="cannot connect to the cluster"):
        Client(address=",".join(f"127.0.0.1:{p}" for p in ports), cluster=True, timeout=2)
    with pytest.raises(ClientError, match="cannot connect"):
        Client(address="unix:///nonexistent/dir/db.sock", cluster=False, timeout=2)
    with pytest.raises(ClientError, match="cannot connect"):
        # nothing answers there from this sandbox: bounded by the connect timeout
        Client(address="192.0.2.1:6379", cluster=False, timeout=1)


@pytest.mark.timeout(60)
def test_standalone_server_is_not_a_cluster() -> None:
    with LocalDatabase() as db:
        with pytest.raises(ClientError, match="cluster"):
            Client(address=db.ssdb, cluster=True, timeout=2)


@pytest.mark.timeout(60)
def test_server_killed_mid_run() -> None:
    db = LocalDatabase().start()
    try:
        client = Client(address=db.ssdb, cluster=False, timeout=2)
        client.put_tensor("before", np.arange(3))
        os.kill(db.shards[0].pid, signal.SIGKILL)
        db.shards[0].stop()
        with pytest.raises(ClientError) as info:
            client.get_tensor("before")
        assert db.ssdb in str(info.value)
        with pytest.raises(ClientError):
            client.put_tensor("after", np.arange(3))
    finally:
        db.stop()


@pytest.mark.timeout(60)
def test_frozen_server_times_out() -> None:
    sock_dir = short_tmpdir()
    db = LocalDatabase(unix_socket=os.path.join(sock_dir, "f.sock")).start()
    pid = db.shards[0].pid
    try:
        client = Client(address=db.ssdb, cluster=False, timeout=1)
        client.put_tensor("x", np.zeros(4))
        os.kill(pid, signal.SIGSTOP)
        try:
            with pytest.raises(ClientError, match="no answer within 1 s"):
                client.get_tensor("x")
        finally:
            os.kill(pid, signal.SIGCONT)
    finally:
        db.stop()
        os.rmdir(sock_dir)


@pytest.mark.timeout(60)
def test_cluster_shard_killed_mid_run() -> None:
    db = LocalDatabase(db_nodes=3).start()
    try:
        client = Client(address=db.ssdb, cluster=True, timeout=2)
        for i in range(30):
            client.put_tensor(f"k{i}", np.full(2, i))
        os.kill(db.shards[1].pid, signal.SIGKILL)
        db.shards[1].stop()
        with pytest.raises(ClientError):
            for i in range(30):  # some of these keys lived on the dead shard
                client.get_tensor(f"k{i}")
    finally:
        db.stop()
