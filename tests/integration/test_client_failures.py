"""Failures: a wrong SSDB, a server killed or frozen mid-run. Our client raises what
smartredis 0.6.1 raises, within the time its settings allow, with a message saying why."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest

import sscontainer.client as ours
from sscontainer.db.address import find_free_port
from sscontainer.db.local import LocalDatabase
from sscontainer.errors import ClientError
from tests.client_diff import require_smartredis, same
from tests.integration.db_fixtures import require_server, short_tmpdir


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    require_server()
    for name in ("SSDB", "SR_DB_TYPE", "SSKEYIN", "SSKEYOUT", "SSDB_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SR_LOG_LEVEL", "quiet")
    monkeypatch.setenv("SR_CONN_TIMEOUT", "1")
    monkeypatch.setenv("SR_CONN_INTERVAL", "200")
    monkeypatch.setenv("SR_CMD_TIMEOUT", "1")
    yield monkeypatch


def point_at(monkeypatch: pytest.MonkeyPatch, ssdb: str, db_type: str) -> None:
    monkeypatch.setenv("SSDB", ssdb)
    monkeypatch.setenv("SR_DB_TYPE", db_type)


def dataset() -> ours.Dataset:
    ds = ours.Dataset("d")
    ds.add_meta_string("k", "v")
    return ds


@pytest.mark.timeout(60)
def test_wrong_ssdb_is_a_clear_error(env: pytest.MonkeyPatch) -> None:
    sr = require_smartredis()
    port = find_free_port()
    point_at(env, f"127.0.0.1:{port}", "Standalone")
    error = same(lambda: sr.Client(), lambda: ours.Client())
    assert isinstance(error, ClientError)
    assert f"127.0.0.1:{port}" in str(error) and "Is it running, and is SSDB right?" in str(error)
    point_at(env, ",".join(f"127.0.0.1:{find_free_port()}" for _ in range(3)), "Clustered")
    same(lambda: sr.Client(), lambda: ours.Client())
    point_at(env, "unix:///nonexistent/dir/db.sock", "Standalone")
    same(lambda: sr.Client(), lambda: ours.Client())


@pytest.mark.timeout(30)
def test_an_unreachable_host_fails_within_sr_conn_timeout(env: pytest.MonkeyPatch) -> None:
    point_at(env, "192.0.2.1:6379", "Standalone")  # TEST-NET-1: nothing answers
    start = time.monotonic()
    with pytest.raises(ours.error.RedisConnectionError, match="within 1 s"):
        ours.Client()
    assert time.monotonic() - start < 10


@pytest.mark.timeout(60)
def test_a_standalone_server_is_not_a_cluster(env: pytest.MonkeyPatch) -> None:
    sr = require_smartredis()
    with LocalDatabase() as db:
        point_at(env, db.ssdb, "Clustered")
        error = same(lambda: sr.Client(), lambda: ours.Client())
        assert "cluster" in str(error)


@pytest.mark.timeout(60)
def test_server_killed_mid_run(env: pytest.MonkeyPatch) -> None:
    sr = require_smartredis()
    db = LocalDatabase().start()
    try:
        point_at(env, db.ssdb, "Standalone")
        real, mine = sr.Client(), ours.Client()
        mine.put_dataset(dataset())
        os.kill(db.shards[0].pid, signal.SIGKILL)
        db.shards[0].stop()
        error = same(lambda: real.get_dataset("d"), lambda: mine.get_dataset("d"))
        assert isinstance(error, ours.error.RedisDatabaseError) and db.ssdb in str(error)
        theirs = sr.Dataset("d")
        theirs.add_meta_string("k", "v")
        same(lambda: real.put_dataset(theirs), lambda: mine.put_dataset(dataset()))
    finally:
        db.stop()


@pytest.mark.timeout(60)
def test_frozen_server_times_out(env: pytest.MonkeyPatch) -> None:
    sr = require_smartredis()
    sock_dir = short_tmpdir()
    db = LocalDatabase(unix_socket=os.path.join(sock_dir, "f.sock")).start()
    pid = db.shards[0].pid
    try:
        point_at(env, db.ssdb, "Standalone")
        real, mine = sr.Client(), ours.Client()
        mine.put_dataset(dataset())
        os.kill(pid, signal.SIGSTOP)
        try:
            start = time.monotonic()
            error = same(lambda: real.dataset_exists("d"), lambda: mine.dataset_exists("d"))
            assert "SR_CMD_TIMEOUT" in str(error)
            assert time.monotonic() - start < 20
        finally:
            os.kill(pid, signal.SIGCONT)
        assert ours.Client().dataset_exists("d")
    finally:
        db.stop()
        os.rmdir(sock_dir)


@pytest.mark.timeout(60)
def test_cluster_shard_killed_mid_run(env: pytest.MonkeyPatch) -> None:
    db = LocalDatabase(db_nodes=3).start()
    try:
        point_at(env, db.ssdb, "Clustered")
        client = ours.Client()
        for i in range(30):
            ds = ours.Dataset(f"d{i}")
            ds.add_meta_scalar("i", i)
            client.put_dataset(ds)
        os.kill(db.shards[1].pid, signal.SIGKILL)
        db.shards[1].stop()
        with pytest.raises(ours.error.RedisDatabaseError):
            for i in range(30):  # some of these lived on the dead shard
                client.get_dataset(f"d{i}")
    finally:
        db.stop()


@pytest.mark.timeout(120)
def test_a_value_over_the_size_limit_names_the_limit(env: pytest.MonkeyPatch) -> None:
    """The server drops a connection that sends a value over proto-max-bulk-len: the
    error names the limit and how to raise it, not only 'Connection reset by peer'."""
    import numpy as np

    with LocalDatabase() as db:
        point_at(env, db.ssdb, "Standalone")
        client = ours.Client()
        client.config_set("proto-max-bulk-len", str(1024 * 1024), db.ssdb)
        big = np.zeros(4 * 1024 * 1024, dtype=np.float64)  # 32 MiB: over the 1 MiB limit
        with pytest.raises(ours.error.RedisDatabaseError) as caught:
            client.put_tensor("big", big)
        assert "proto-max-bulk-len (1048576 bytes)" in str(caught.value)
        assert "set_max_message_size" in str(caught.value)
        assert not client.tensor_exists("big")
        client.config_set("proto-max-bulk-len", str(64 * 1024 * 1024), db.ssdb)
        client.put_tensor("big", big)  # raised: the same value is taken
        assert client.get_tensor("big").nbytes == big.nbytes
