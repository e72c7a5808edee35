"""A 3-shard Redis Cluster: module commands route by their keys (CROSSSLOT for keys in
different slots), and a reshard that MIGRATEs slots keeps tensors and models readable."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import redis
from redis.crc import key_slot

from sscontainer.db.local import LocalDatabase
from tests.integration.redisai_support import module_db, raw, require_smartredis, sr_client


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalDatabase]:
    require_smartredis()
    with module_db(3) as db:
        yield db


def _ids(db: LocalDatabase) -> list[str]:
    ids = []
    for index in range(len(db.addresses)):
        conn = raw(db, index)
        node = conn.execute_command("CLUSTER", "MYID")
        ids.append(node.decode() if isinstance(node, bytes) else node)
        conn.close()
    return ids


def _owner(db: LocalDatabase, slot: int) -> int:
    conn = raw(db)
    ids = _ids(db)
    try:
        for entry in conn.execute_command("CLUSTER", "SLOTS"):
            if int(entry[0]) <= slot <= int(entry[1]):
                node = entry[2][2]
                return ids.index(node.decode() if isinstance(node, bytes) else node)
    finally:
        conn.close()
    raise AssertionError(f"nobody owns slot {slot}")


def migrate_slot(db: LocalDatabase, slot: int, target: int) -> list[bytes]:
    """Move ``slot`` to shard ``target`` as `valkey-cli --cluster reshard` does; the keys moved."""
    ids = _ids(db)
    source = _owner(db, slot)
    src, dst = raw(db, source), raw(db, target)
    dst_address = db.addresses[target]
    try:
        dst.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", ids[source])
        src.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", ids[target])
        keys: list[bytes] = src.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 1000)
        if keys:
            src.execute_command("MIGRATE", dst_address.host, dst_address.port, "", 0, 10_000,
                                "KEYS", *keys)
        for index in range(len(db.addresses)):
            conn = raw(db, index)
            conn.execute_command("CLUSTER", "SETSLOT", slot, "NODE", ids[target])
            conn.close()
        return keys
    finally:
        src.close()
        dst.close()


def test_a_reshard_keeps_tensors_and_models_readable(cluster: LocalDatabase) -> None:
    client = sr_client(cluster)
    data = {f"{{moved}}t{i}": np.arange(i + 3, dtype=np.int32) * i for i in range(4)}
    for name, array in data.items():
        client.put_tensor(name, array)
    slot = key_slot(b"moved")
    conn = raw(cluster, _owner(cluster, slot))
    conn.execute_command("AI.MODELSTORE", "{moved}m", "ONNX", "CPU", "TAG", "v", "BLOB", b"m")
    conn.execute_command("AI.SCRIPTSET", "{moved}s", "CPU", "SOURCE", "def f(x):\n    return x\n")
    conn.close()
    target = (_owner(cluster, slot) + 1) % 3
    moved = migrate_slot(cluster, slot, target)
    assert len(moved) == 6 and _owner(cluster, slot) == target
    fresh = sr_client(cluster)  # a new client reads the new slot map
    for name, array in data.items():
        np.testing.assert_array_equal(fresh.get_tensor(name), array)
    dst = raw(cluster, target)
    assert dst.execute_command("AI.MODELGET", "{moved}m", "BLOB") == b"m"
    assert dst.execute_command("AI.SCRIPTGET", "{moved}s", "SOURCE").startswith(b"def f")
    assert dst.type("{moved}t0") == b"ssctensor"
    dst.close()


def test_keys_in_different_slots_are_crossslot(cluster: LocalDatabase) -> None:
    conn = raw(cluster, _owner(cluster, key_slot(b"a")))
    with pytest.raises(redis.exceptions.ClusterCrossSlotError):
        conn.execute_command("AI.MODELEXECUTE", "{a}m", "INPUTS", 1, "{b}x", "OUTPUTS", 1,
                             "{a}y")
    with pytest.raises(redis.exceptions.ClusterCrossSlotError):
        conn.execute_command("AI.SCRIPTRUN", "{a}s", "f", "INPUTS", "{a}x", "OUTPUTS", "{c}y")
    with pytest.raises(redis.exceptions.ClusterCrossSlotError):
        conn.execute_command("AI.SCRIPTEXECUTE", "{a}s", "f", "KEYS", 1, "{b}k", "INPUTS", 1,
                             "{a}x")
    conn.close()


def test_commands_are_redirected_to_the_owner(cluster: LocalDatabase) -> None:
    slot = key_slot(b"routed")
    elsewhere = raw(cluster, (_owner(cluster, slot) + 1) % 3)
    for command in (("AI.TENSORSET", "routed", "INT8", 1, "VALUES", 1),
                    ("AI.TENSORGET", "routed"), ("AI.MODELGET", "routed"),
                    ("AI.MODELEXECUTE", "routed", "INPUTS", 1, "routed", "OUTPUTS", 1, "routed"),
                    ("AI.INFO", "routed")):
        with pytest.raises(redis.exceptions.MovedError):
            elsewhere.execute_command(*command)
    elsewhere.close()


def test_smartredis_cluster_runs_use_per_shard_temporary_keys(cluster: LocalDatabase) -> None:
    """SmartRedis stores a model once per slot range of CLUSTER SLOTS (a shard, until a
    reshard splits ranges) under '{P_s}.name' (binary prefixes)."""
    client: Any = sr_client(cluster)
    conn = raw(cluster)
    ranges = len(conn.execute_command("CLUSTER", "SLOTS"))
    conn.close()
    client.set_model("per_shard", b"bytes", "ONNX", "CPU")
    count = 0
    for index in range(3):
        conn = raw(cluster, index)
        count += sum(1 for key in conn.keys("*per_shard") if key.endswith(b"}.per_shard"))
        conn.close()
    assert count == ranges
