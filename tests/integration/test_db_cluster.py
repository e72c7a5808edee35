"""A real 3-shard Redis Cluster: creation, coverage, live config on every shard, passwords."""

from __future__ import annotations

import pytest
import redis

from sscontainer.client import Client, Dataset
from sscontainer.db.cluster import CLUSTER_SLOTS, cluster_info, create_cluster
from sscontainer.db.local import LocalDatabase
from sscontainer.errors import DatabaseError
from tests.integration.db_fixtures import cluster_db, process_gone, require_server

__all__ = ["cluster_db"]


def test_cluster_covers_every_slot_on_every_node(cluster_db: LocalDatabase) -> None:
    assert len(cluster_db.addresses) == 3
    assert cluster_db.env["SR_DB_TYPE"] == "Clustered"
    assert cluster_db.ssdb.count(",") == 2
    for address in cluster_db.addresses:
        info = cluster_info(address)
        assert info["cluster_state"] == "ok"
        assert info["cluster_slots_assigned"] == str(CLUSTER_SLOTS)
        assert info["cluster_known_nodes"] == "3"
        assert info["cluster_size"] == "3"


def test_live_config_reaches_every_shard(cluster_db: LocalDatabase) -> None:
    live = cluster_db.live_config()
    live.set_max_clients(4321)
    live.set_max_memory("128mb")
    assert set(live.get_db_conf("maxclients").values()) == {"4321"}
    assert set(live.get_db_conf("maxmemory").values()) == {str(128 * 1024 * 1024)}
    assert len(live.get_db_conf("maxclients")) == 3


def test_creating_a_cluster_twice_fails_with_the_cli_output(cluster_db: LocalDatabase) -> None:
    with pytest.raises(DatabaseError, match="creating the cluster"):
        create_cluster(cluster_db.addresses, timeout=30)


def test_password_protected_cluster_and_cleanup(monkeypatch: pytest.MonkeyPatch) -> None:
    require_server()
    db = LocalDatabase(db_nodes=3, password="cluster-pw").start()
    pids = [shard.pid for shard in db.shards]
    try:
        for address in db.addresses:
            assert cluster_info(address, "cluster-pw")["cluster_state"] == "ok"
            with pytest.raises(redis.RedisError):
                cluster_info(address)  # no password: refused
        monkeypatch.setenv("SSDB_PASSWORD", "cluster-pw")
        monkeypatch.setenv("SSDB", db.ssdb)
        monkeypatch.setenv("SR_DB_TYPE", "Clustered")
        with Client() as client:
            dataset = Dataset("k")
            dataset.add_meta_string("v", "1")
            client.put_dataset(dataset)
            assert client.key_exists("{k}.meta")
    finally:
        db.stop()
    assert all(process_gone(pid) for pid in pids)
