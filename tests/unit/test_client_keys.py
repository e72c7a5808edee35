"""Key names, prefixes, SSDB parsing and cluster shard prefixes, as SmartRedis 0.6.1 builds them."""

from __future__ import annotations

from binascii import crc_hqx

import pytest

from sscontainer.client.cluster import shard_prefix
from sscontainer.client.error import RedisInternalError, RedisRuntimeError
from sscontainer.client.keys import KeyBuilder, dataset_name_of_entry
from sscontainer.client.ssdb import Address, parse_address, parse_ssdb


def test_writes_use_sskeyout_reads_the_first_sskeyin() -> None:
    keys = KeyBuilder("prodA", "prodA,,prodB")
    assert keys.get_prefixes == ["prodA", "prodB"]
    assert keys.tensor("x", False) == "prodA.x"
    assert keys.tensor("x", True) == "prodA.x"
    keys.set_data_source("prodB")
    assert keys.tensor("x", True) == "prodB.x"
    assert keys.dataset_meta("ds", True) == "prodB.{ds}.meta"
    assert keys.dataset_tensor("ds", "t", False) == "prodA.{ds}.t"
    assert keys.list("L", False) == "prodA.L"
    assert keys.model("m", False) == "m"  # models are not prefixed by default
    keys.use_model_prefix = True
    assert keys.model("m", False) == "prodA.m"
    keys.use_tensor_prefix = keys.use_dataset_prefix = keys.use_list_prefix = False
    assert (keys.tensor("x", True), keys.dataset("ds", True), keys.list("L", True)) == (
        "x", "{ds}", "L")


def test_without_sskeyin_reads_are_not_prefixed() -> None:
    keys = KeyBuilder("prodA", "")
    assert keys.tensor("x", False) == "prodA.x"
    assert keys.tensor("x", True) == "x"
    keys.set_data_source("prodA")  # not in SSKEYIN: SmartRedis refuses, DESIGN.md allows it
    assert keys.tensor("x", True) == "prodA.x"
    for bad in ("", "a b", "..", "x/y"):
        with pytest.raises(RedisRuntimeError, match=f"data source {bad} could not be found"):
            keys.set_data_source(bad)


def test_list_entries_name_their_dataset() -> None:
    assert dataset_name_of_entry("prodA.{ds.1}") == "ds.1"
    assert dataset_name_of_entry("{a}b}") == "a}b"
    for bad in ("nobrace", "{open", "close}"):
        with pytest.raises(RedisInternalError):
            dataset_name_of_entry(bad)


def test_shard_prefixes_are_smartredis_s() -> None:
    # live captures in shared/reference/redisai-wire.md §6.6
    assert shard_prefix(0) == b"\x00\x00"
    assert shard_prefix(8192) == b"\x22\x04"
    for slot in range(16384):
        prefix = shard_prefix(slot)
        assert crc_hqx(prefix, 0) == slot
        assert b"{" not in prefix and b"}" not in prefix and len(prefix) in (2, 3)


@pytest.mark.parametrize(("text", "expected"), [
    ("127.0.0.1:6379", Address("127.0.0.1", 6379)),
    ("tcp://node1:0x18eb", Address("node1", 6379)),
    ("h:017", Address("h", 15)),
    ("unix:///tmp/db.sock", Address(socket_path="/tmp/db.sock")),
])
def test_addresses(text: str, expected: Address) -> None:
    assert parse_address(text) == expected


@pytest.mark.parametrize("bad", ["nocolon", ":6379", "host:", "host:abc", "host:70000"])
def test_bad_addresses(bad: str) -> None:
    with pytest.raises(RedisRuntimeError, match="not a valid database node address"):
        parse_address(bad)


def test_ssdb_lists() -> None:
    assert parse_ssdb("a:1,b:2,") == [Address("a", 1), Address("b", 2)]
    with pytest.raises(RedisRuntimeError, match="because of character ;"):
        parse_ssdb("127.0.0.1:6379;")
    with pytest.raises(RedisRuntimeError, match="not a valid"):
        parse_ssdb("a:1,,b:2")
    with pytest.raises(RedisRuntimeError, match="SSDB must be set"):
        parse_ssdb("")
