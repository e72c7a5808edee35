"""AI.TENSORSET / AI.TENSORGET as raw commands: every form and RedisAI error text, generic
key commands on tensor keys, persistence (RDB, AOF rewrite, DUMP/RESTORE)."""

from __future__ import annotations

import shutil
import struct
import time
from collections.abc import Iterator

import numpy as np
import pytest
import redis

from sscontainer.db.address import find_free_port
from tests.integration.db_fixtures import short_tmpdir
from tests.integration.redisai_support import conn, module_db, raw, sr_client

__all__ = ["conn"]  # the fixture, used by name

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"


def err(conn: redis.Redis, *args: object) -> str:
    """The error reply's text as sent (redis-py drops a leading "ERR ": put it back)."""
    with pytest.raises(redis.ResponseError) as info:
        conn.execute_command(*args)
    text = str(info.value)
    return text if text.startswith(("WRONGTYPE", "ERR ")) else f"ERR {text}"


def test_blob_and_meta_forms(conn: redis.Redis) -> None:
    blob = struct.pack("<6f", 1, 2, 3, 4, 5, 6)
    assert conn.execute_command("AI.TENSORSET", "t", "FLOAT", 2, 3, "BLOB", blob) == b"OK"
    assert conn.execute_command("AI.TENSORGET", "t", "META", "BLOB") == [
        b"dtype", b"FLOAT", b"shape", [2, 3], b"blob", blob]
    assert conn.execute_command("AI.TENSORGET", "t") == [
        b"dtype", b"FLOAT", b"shape", [2, 3], b"blob", blob]
    assert conn.execute_command("AI.TENSORGET", "t", "META") == [b"dtype", b"FLOAT", b"shape", [2, 3]]
    assert conn.execute_command("AI.TENSORGET", "t", "BLOB") == blob
    assert conn.execute_command("AI.TENSORGET", "t", "blob", "meta")[5] == blob  # any case


def test_values_forms(conn: redis.Redis) -> None:
    conn.execute_command("AI.TENSORSET", "v", "INT16", 3, "VALUES", -3, 0, 32767)
    assert conn.execute_command("AI.TENSORGET", "v", "VALUES") == [-3, 0, 32767]
    assert conn.execute_command("AI.TENSORGET", "v", "META", "VALUES") == [
        b"dtype", b"INT16", b"shape", [3], b"values", [-3, 0, 32767]]
    conn.execute_command("AI.TENSORSET", "d", "DOUBLE", 2, "VALUES", 0.5, -1e300)
    assert [float(x) for x in conn.execute_command("AI.TENSORGET", "d", "VALUES")] == [0.5, -1e300]
    conn.execute_command("AI.TENSORSET", "u", "UINT8", 2, 1, "VALUES", 0, 255)
    assert conn.execute_command("AI.TENSORGET", "u", "BLOB") == b"\x00\xff"
    conn.execute_command("AI.TENSORSET", "b", "BOOL", 2, "VALUES", 1, 0)
    assert conn.execute_command("AI.TENSORGET", "b", "META", "BLOB")[1] == b"BOOL"
    conn.execute_command("AI.TENSORSET", "z", "INT32", 2, 2)  # no data: zeros, as RedisAI
    assert conn.execute_command("AI.TENSORGET", "z", "VALUES") == [0, 0, 0, 0]


@pytest.mark.parametrize("args, text", [
    (("t", "FLOAT16", 2, "BLOB", b"1234"), "ERR invalid data type"),
    (("t", "STRING", 1, "VALUES", "a"), "ERR invalid data type"),
    (("t", "FLOAT", 0, "BLOB", b""), "ERR invalid or negative value found in tensor shape"),
    (("t", "FLOAT", -2, "BLOB", b""), "ERR invalid or negative value found in tensor shape"),
    (("t", "FLOAT", "two", "BLOB", b""), "ERR invalid or negative value found in tensor shape"),
    (("t", "FLOAT", 2, "BLOB", b"123"), "ERR data length does not match tensor shape and type"),
    (("t", "FLOAT", 2, "BLOB", b"x" * 12), "ERR data length does not match tensor shape and type"),
    (("t", "FLOAT", 2, "BLOB"), "ERR a single binary string should come after the BLOB argument in 'AI.TENSORSET' command"),
    (("t", "FLOAT", 1, "BLOB", b"1234", b"5678"), "ERR a single binary string should come after the BLOB argument in 'AI.TENSORSET' command"),
    (("t", "FLOAT", 2, "VALUES", 1), "ERR wrong number of values was given in 'AI.TENSORSET' command"),
    (("t", "INT8", 1, "VALUES", 128), "ERR invalid value"),
    (("t", "UINT16", 1, "VALUES", -1), "ERR invalid value"),
    (("t", "FLOAT", 1, "VALUES", "abc"), "ERR invalid value"),
    (("t", "BOOL", 1, "VALUES", 2), "ERR invalid value"),
    # huge dims: the shape overflows, no allocation is attempted
    (("t", "DOUBLE", 2**62, 2**62, "BLOB", b"12345678"), "ERR data length does not match tensor shape and type"),
    (("t", "FLOAT", 100000, 100000), "cannot be created without data"),
])
def test_tensorset_errors(conn: redis.Redis, args: tuple[object, ...], text: str) -> None:
    assert text in err(conn, "AI.TENSORSET", *args)


def test_tensorset_arity_and_tensorget_errors(conn: redis.Redis) -> None:
    assert "wrong number of arguments" in err(conn, "AI.TENSORSET", "t", "FLOAT")
    assert "wrong number of arguments" in err(conn, "AI.TENSORGET")
    conn.execute_command("AI.TENSORSET", "g", "INT8", 1, "VALUES", 1)
    assert err(conn, "AI.TENSORGET", "missing") == "ERR tensor key is empty or in a different shard"
    assert err(conn, "AI.TENSORGET", "g", "BLOB", "VALUES") == "ERR both BLOB and VALUES specified"
    assert err(conn, "AI.TENSORGET", "g", "JSON") == "ERR unsupported data format"
    assert "wrong number of arguments" in err(conn, "AI.TENSORGET", "g", "META", "BLOB", "X")


def test_other_types_are_wrongtype_both_ways(conn: redis.Redis) -> None:
    conn.set("plain", "x")
    assert err(conn, "AI.TENSORSET", "plain", "INT8", 1, "VALUES", 1) == WRONGTYPE
    assert err(conn, "AI.TENSORGET", "plain") == WRONGTYPE
    conn.execute_command("AI.TENSORSET", "tensor", "INT8", 1, "VALUES", 1)
    assert err(conn, "GET", "tensor") == WRONGTYPE
    assert conn.type("tensor") == b"ssctensor"


def test_generic_key_commands_on_tensors(conn: redis.Redis) -> None:
    blob = bytes(range(16))
    conn.execute_command("AI.TENSORSET", "k1", "UINT8", 4, 4, "BLOB", blob)
    assert conn.exists("k1") == 1
    assert conn.rename("k1", "k2")
    assert conn.exists("k1") == 0
    assert conn.execute_command("AI.TENSORGET", "k2", "BLOB") == blob
    assert conn.copy("k2", "k3")  # shared, immutable: both keep the value
    conn.execute_command("AI.TENSORSET", "k2", "UINT8", 1, "VALUES", 7)
    assert conn.execute_command("AI.TENSORGET", "k3", "BLOB") == blob
    usage = conn.memory_usage("k3")
    assert usage is not None and usage >= len(blob)
    big = b"\0" * (1 << 20)
    conn.execute_command("AI.TENSORSET", "big", "UINT8", 1 << 20, "BLOB", big)
    big_usage = conn.memory_usage("big")
    assert big_usage is not None and (1 << 20) <= big_usage < (1 << 20) + 4096
    assert conn.delete("k2", "k3") == 2
    assert conn.unlink("big") == 1
    assert conn.exists("k2", "k3", "big") == 0


def test_dump_restore(conn: redis.Redis) -> None:
    conn.execute_command("AI.TENSORSET", "src", "INT64", 2, "VALUES", -1, 2**40)
    payload = conn.dump("src")
    assert payload is not None
    conn.restore("dst", 0, payload)
    assert conn.execute_command("AI.TENSORGET", "dst", "VALUES") == [-1, 2**40]
    with pytest.raises(redis.ResponseError):
        conn.restore("bad", 0, payload[:-12] + b"\0" * 12)  # corrupt: refused, server lives
    assert conn.ping()


@pytest.fixture
def files() -> Iterator[tuple[str, int]]:
    """A data directory and a port that a server and its restart share (same file names)."""
    base_dir = short_tmpdir()
    try:
        yield base_dir, find_free_port()
    finally:
        shutil.rmtree(base_dir, ignore_errors=True)


def test_tensors_survive_a_restart_from_rdb(files: tuple[str, int]) -> None:
    base_dir, port = files
    with module_db(port=port, base_dir=base_dir) as db:
        client = sr_client(db)  # SmartRedis's save(): SAVE on every address
        client.put_tensor("saved", np.array([1.5, 2.5], np.float32))
        client.set_model("m", b"onnx", "ONNX", "CPU", tag="v1")
        client.set_script("s", "def f(x):\n    return x\n", "CPU")
        client.save([str(db.addresses[0])])
    with module_db(port=port, base_dir=base_dir) as db:
        np.testing.assert_array_equal(sr_client(db).get_tensor("saved"), [1.5, 2.5])
        c = raw(db)
        assert c.execute_command("AI.TENSORGET", "saved", "VALUES") == [b"1.5", b"2.5"]
        assert c.execute_command("AI.MODELGET", "m", "BLOB") == b"onnx"
        assert c.execute_command("AI.MODELGET", "m", "META")[5] == b"v1"
        assert c.execute_command("AI.SCRIPTGET", "s", "SOURCE") == b"def f(x):\n    return x\n"
        c.close()


@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_aof_rewrite_recreates_tensors_models_and_scripts(
    files: tuple[str, int], preamble: str
) -> None:
    """With the RDB preamble the rewrite saves values as in RDB; without it, each value is
    written back as the command that stores it (the module's aof_rewrite callbacks)."""
    base_dir, port = files
    conf = {"appendonly": "yes", "aof-use-rdb-preamble": preamble}
    with module_db(port=port, base_dir=base_dir, server_conf=conf) as db:
        c = raw(db)
        c.execute_command("AI.TENSORSET", "a", "INT32", 1, 2, "VALUES", 4, 5)
        # every option a model can carry: the longest MODELSTORE a rewrite writes
        c.execute_command("AI.MODELSTORE", "tf", "TF", "CPU", "TAG", "v2", "BATCHSIZE", 4,
                          "MINBATCHSIZE", 2, "MINBATCHTIMEOUT", 50, "INPUTS", 1, "x",
                          "OUTPUTS", 1, "y", "BLOB", b"graph")
        c.execute_command("AI.SCRIPTSTORE", "s", "CPU", "ENTRY_POINTS", 1, "f", "SOURCE", "src")
        c.bgrewriteaof()
        for _ in range(200):
            if c.info("persistence")["aof_rewrite_in_progress"] == 0:
                break
            time.sleep(0.05)
        assert c.info("persistence")["aof_last_bgrewrite_status"] == "ok"
        c.execute_command("AI.TENSORSET", "after", "INT8", 1, "VALUES", 9)  # replayed from AOF
        c.close()
    with module_db(port=port, base_dir=base_dir, server_conf=conf) as db:
        c = raw(db)
        assert c.execute_command("AI.TENSORGET", "a", "META", "VALUES") == [
            b"dtype", b"INT32", b"shape", [1, 2], b"values", [4, 5]]
        assert c.execute_command("AI.TENSORGET", "after", "VALUES") == [9]
        meta = c.execute_command("AI.MODELGET", "tf", "META")
        assert meta[meta.index(b"inputs") + 1] == [b"x"] and meta[meta.index(b"batchsize") + 1] == 4
        assert meta[meta.index(b"outputs") + 1] == [b"y"] and meta[meta.index(b"tag") + 1] == b"v2"
        assert meta[meta.index(b"minbatchsize") + 1] == 2
        assert meta[meta.index(b"minbatchtimeout") + 1] == 50
        assert c.execute_command("AI.MODELGET", "tf", "BLOB") == b"graph"
        assert c.execute_command("AI.SCRIPTGET", "s", "META")[5] == [b"f"]
        c.close()


def test_overwrites_replace_the_value_and_drop_a_ttl_as_set_does(conn: redis.Redis) -> None:
    conn.execute_command("AI.TENSORSET", "ttl", "INT8", 1, "VALUES", 1)
    conn.expire("ttl", 100)
    conn.execute_command("AI.TENSORSET", "ttl", "INT8", 1, "VALUES", 2)
    assert conn.ttl("ttl") == -1
    assert conn.execute_command("AI.TENSORGET", "ttl", "VALUES") == [2]
    conn.execute_command("AI.TENSORSET", "ttl", "INT16", 2, "VALUES", 3, 4)  # in place
    assert conn.execute_command("AI.TENSORGET", "ttl", "META", "VALUES") == [
        b"dtype", b"INT16", b"shape", [2], b"values", [3, 4]]
    assert conn.copy("ttl", "shared")
    conn.execute_command("AI.TENSORSET", "ttl", "INT8", 1, "VALUES", 5)
    assert conn.execute_command("AI.TENSORGET", "shared", "VALUES") == [3, 4]
