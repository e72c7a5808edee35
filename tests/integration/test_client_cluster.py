"""sscontainer.Client in a Redis Cluster under change: a reshard moves a slot while a client
holds the old slot map; it is redirected (MOVED), reads the new map and carries on. The real
SmartRedis 0.6.1 client does not: it raises the MOVED reply until a new Client is made."""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
import pytest
from redis.crc import key_slot

import sscontainer.client as ours
from sscontainer.db.local import LocalDatabase
from tests.client_diff import require_smartredis, same
from tests.integration.client_pairs import require_redisai
from tests.integration.redisai_support import module_db
from tests.integration.test_redisai_cluster import _owner, migrate_slot


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalDatabase]:
    with module_db(3) as db:
        yield db


def test_clients_follow_a_reshard(cluster: LocalDatabase, monkeypatch: pytest.MonkeyPatch) -> None:
    sr = require_smartredis()
    for key, value in {**cluster.env, "SR_LOG_LEVEL": "quiet"}.items():
        monkeypatch.setenv(key, value)
    for name in ("SSKEYIN", "SSKEYOUT"):
        monkeypatch.delenv(name, raising=False)
    mine, real = ours.Client(None, "ours"), sr.Client(None, "real")
    require_redisai(mine)
    data = np.arange(10, dtype=np.float32)
    dataset = ours.Dataset("moving")
    dataset.add_tensor("x", data)
    dataset.add_meta_string("note", "before")
    mine.put_dataset(dataset)
    mine.put_tensor("{moving}t", data)
    mine.set_script("{moving}s", "def f(x):\n    return x\n")
    slot = key_slot(b"moving")
    source = _owner(cluster, slot)
    moved = migrate_slot(cluster, slot, (source + 1) % 3)
    assert moved  # the dataset's keys, the tensor and the script copies in that slot
    assert _owner(cluster, slot) == (source + 1) % 3
    with pytest.raises(sr.error.RedisRuntimeError):  # a MOVED reply, not followed
        real.get_tensor("{moving}t")
    fresh = sr.Client(None, "real-after")
    got = same(lambda: fresh.get_tensor("{moving}t"), lambda: mine.get_tensor("{moving}t"))
    assert np.array_equal(got, data)
    same(lambda: fresh.get_dataset("moving").get_meta_strings("note"),
         lambda: mine.get_dataset("moving").get_meta_strings("note"))
    same(lambda: fresh.get_script("{moving}s"), lambda: mine.get_script("{moving}s"))
    mine.put_tensor("{moving}u", data * 2)
    assert np.array_equal(fresh.get_tensor("{moving}u"), data * 2)
    assert mine.dataset_exists("moving") and os.environ["SR_DB_TYPE"] == "Clustered"
