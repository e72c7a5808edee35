"""Database-wide calls through the real smartredis 0.6.1 and sscontainer.client, same database:
node and cluster information, configuration, flushing, saving, and their address rules."""

from __future__ import annotations

from typing import Any

import pytest

import sscontainer.client as ours
from tests.client_diff import same
from tests.integration.client_pairs import (
    Pair,
    cluster_db,
    pair,
    require_redisai,
    standalone_db,
    uds_db,
)

__all__ = ["cluster_db", "pair", "standalone_db", "uds_db"]

STABLE = ("redis_version", "redis_mode", "tcp_port", "cluster_enabled", "maxmemory_policy")


def stable(info: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Sections and the fields that do not change from one call to the next."""
    return [{section: {k: v for k, v in fields.items() if k in STABLE}
             for section, fields in node.items()} for node in info]


def test_node_info(pair: Pair) -> None:
    result = same(lambda: stable(pair.real.get_db_node_info(pair.nodes)),
                  lambda: stable(pair.ours.get_db_node_info(pair.nodes)))
    assert len(result) == len(pair.nodes) and "Server" in result[0]


def test_cluster_info(pair: Pair) -> None:
    keep = ("cluster_state", "cluster_slots_assigned", "cluster_known_nodes", "cluster_size")
    result = same(
        lambda: [{k: v for k, v in i.items() if k in keep}
                 for i in pair.real.get_db_cluster_info(pair.nodes)],
        lambda: [{k: v for k, v in i.items() if k in keep}
                 for i in pair.ours.get_db_cluster_info(pair.nodes)],
    )
    if pair.kind == "cluster":
        assert result[0]["cluster_state"] == "ok"


def test_config_get_set_flush_save(pair: Pair) -> None:
    a, b = pair.real, pair.ours
    node = pair.nodes[-1]
    same(lambda: a.config_get("maxmemory*", node), lambda: b.config_get("maxmemory*", node))
    same(lambda: a.config_get("no-such-*", node), lambda: b.config_get("no-such-*", node))
    same(lambda: a.config_set("maxmemory-samples", "7", node),
         lambda: b.config_set("maxmemory-samples", "6", node))
    assert a.config_get("maxmemory-samples", node) == {"maxmemory-samples": "6"}
    same(lambda: a.config_set("no-such-option", "1", node),
         lambda: b.config_set("no-such-option", "1", node))
    b.put_dataset(_dataset())
    same(lambda: a.flush_db(pair.nodes), lambda: b.flush_db(pair.nodes))
    assert not a.dataset_exists("d") and not b.dataset_exists("d")
    same(lambda: a.save(pair.nodes), lambda: b.save(pair.nodes))
    times = [i["Persistence"]["rdb_last_save_time"] for i in b.get_db_node_info(pair.nodes)]
    assert all(int(t) > 0 for t in times)


def _dataset() -> ours.Dataset:
    ds = ours.Dataset("d")
    ds.add_meta_string("k", "v")
    return ds


BAD_ADMIN_CALLS = [
    ("info not a list", lambda c, n: c.get_db_node_info(n[0])),
    ("info list of ints", lambda c, n: c.get_db_node_info([1])),
    ("info unknown node", lambda c, n: c.get_db_node_info(["127.0.0.1:1"])),
    ("info malformed node", lambda c, n: c.get_db_node_info(["nocolon"])),
    ("cluster info unknown node", lambda c, n: c.get_db_cluster_info(["127.0.0.1:1"])),
    ("config_get list address", lambda c, n: c.config_get("maxmemory", n)),
    ("config_get unknown node", lambda c, n: c.config_get("maxmemory", "127.0.0.1:1")),
    ("config_get other spelling", lambda c, n: c.config_get("maxmemory", "tcp://" + n[0])),
    ("config_set not str", lambda c, n: c.config_set("maxmemory", 5, n[0])),
    ("flush unknown node", lambda c, n: c.flush_db(["127.0.0.1:1"])),
    ("flush not a list", lambda c, n: c.flush_db(n[0])),
    ("save unknown node", lambda c, n: c.save(["127.0.0.1:1"])),
    ("chunk size not int", lambda c, n: c.set_model_chunk_size("5")),
    ("ai info not a list", lambda c, n: c.get_ai_info(n[0], "m")),
    ("ai info reset not bool", lambda c, n: c.get_ai_info(n, "m", 1)),
]


@pytest.mark.parametrize("case", BAD_ADMIN_CALLS, ids=[c[0] for c in BAD_ADMIN_CALLS])
def test_bad_admin_calls(pair: Pair, case: Any) -> None:
    call = case[1]
    same(lambda: call(pair.real, pair.nodes), lambda: call(pair.ours, pair.nodes))


def test_model_chunk_size_and_ai_info_errors(pair: Pair) -> None:
    require_redisai(pair.ours)
    a, b = pair.real, pair.ours
    same(lambda: a.set_model_chunk_size(1024), lambda: b.set_model_chunk_size(1024))
    same(lambda: a.get_ai_info(pair.nodes, "no-such-model"),
         lambda: b.get_ai_info(pair.nodes, "no-such-model"))
    same(lambda: a.set_model_chunk_size(-1), lambda: b.set_model_chunk_size(-1))
