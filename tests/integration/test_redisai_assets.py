"""Models and scripts (store, get, delete, info) and AI.CONFIG: through the real SmartRedis
client on every kind of database, and as raw commands with RedisAI's error texts."""

from __future__ import annotations

import os
from typing import Any

import pytest
import redis

from sscontainer.db.local import LocalDatabase
from tests.integration.redisai_support import client, conn, db

__all__ = ["client", "conn", "db"]  # the fixtures, used by name

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CNN_ONNX = os.path.join(ROOT, "examples", "ml_inference", "cnn.onnx")
SCRIPT = "def negate(x):\n    return torch.neg(x)\n"


def timestwo(x):  # type: ignore[no-untyped-def]  # a TorchScript function, sent as source
    return 2 * x


def test_models_from_bytes_and_files(client: Any) -> None:
    with open(CNN_ONNX, "rb") as handle:
        onnx = handle.read()
    client.set_model_from_file("cnn", CNN_ONNX, "ONNX", device="CPU", batch_size=8,
                               min_batch_size=2, min_batch_timeout=5, tag="v1")
    assert client.model_exists("cnn") and client.poll_model("cnn", 10, 2)
    assert client.get_model("cnn") == onnx
    torch_blob = os.urandom(3000)  # the module stores bytes; the worker loads them
    client.set_model("tm", torch_blob, "TORCH", "CPU")
    assert client.get_model("tm") == torch_blob
    client.set_model_chunk_size(1024)  # the model now travels in 3 chunks, joined by the server
    client.set_model("tm", torch_blob, "TORCH", "CPU")
    assert client.get_model("tm") == torch_blob
    client.delete_model("tm")
    assert not client.model_exists("tm")


def test_scripts_and_functions(client: Any) -> None:
    client.set_script("neg", SCRIPT, "CPU")
    assert client.get_script("neg") == SCRIPT
    client.set_function("double", timestwo)
    assert "return 2 * x" in client.get_script("double")
    assert client.model_exists("double")  # SmartRedis checks scripts with EXISTS too
    client.delete_script("neg")
    assert not client.model_exists("neg")


def test_ai_info_and_reset(client: Any, db: LocalDatabase) -> None:
    client.set_model("m", b"bytes", "ONNX", "CPU", tag="t1")
    client.set_script("s", SCRIPT, "CPU")
    address = [str(db.addresses[0])] if not db.is_cluster else None
    if address is None:  # cluster: any node's host:port as CLUSTER SLOTS names it
        address = [f"{db.addresses[0].host}:{db.addresses[0].port}"]
    info = client.get_ai_info(address, "m")[0]
    assert info["key"] == "m" and info["type"] == "MODEL" and info["backend"] == "ONNX"
    assert info["tag"] == "t1" and int(info["calls"]) == 0 and int(info["errors"]) == 0
    script_info = client.get_ai_info(address, "s")[0]
    assert script_info["type"] == "SCRIPT" and int(script_info["samples"]) == -1
    with pytest.raises(Exception, match="cannot find run info for key"):
        client.get_ai_info(address, "nothing")


def test_config_get_and_set(client: Any, db: LocalDatabase) -> None:
    address = f"{db.addresses[0]}" if not db.is_cluster else \
        f"{db.addresses[0].host}:{db.addresses[0].port}"
    client.config_set("maxmemory-policy", "allkeys-lru", address)
    assert client.config_get("maxmemory-policy", address) == {"maxmemory-policy": "allkeys-lru"}
    client.config_set("maxmemory-policy", "noeviction", address)


# --- raw commands -------------------------------------------------------------------------

def err(conn: redis.Redis, *args: object) -> str:
    with pytest.raises(redis.ResponseError) as info:
        conn.execute_command(*args)
    return str(info.value)


def test_modelstore_forms_and_modelget_meta(conn: redis.Redis) -> None:
    assert conn.execute_command(
        "AI.MODELSTORE", "m", "tf", "gpu:1", "TAG", "v2", "BATCHSIZE", 8, "MINBATCHSIZE", 2,
        "MINBATCHTIMEOUT", 10, "INPUTS", 2, "a", "b", "OUTPUTS", 1, "y", "BLOB", b"ab", b"cd",
    ) == b"OK"
    assert conn.execute_command("AI.MODELGET", "m", "META") == [
        b"backend", b"TF", b"device", b"GPU:1", b"tag", b"v2", b"batchsize", 8,
        b"minbatchsize", 2, b"inputs", [b"a", b"b"], b"outputs", [b"y"], b"minbatchtimeout", 10]
    both = conn.execute_command("AI.MODELGET", "m")
    assert len(both) == 18 and both[-2:] == [b"blob", b"abcd"]
    assert conn.execute_command("AI.MODELGET", "m", "BLOB") == b"abcd"
    assert conn.type("m") == b"ssc_model"
    assert conn.execute_command("AI.MODELDEL", "m") == b"OK"
    assert err(conn, "AI.MODELDEL", "m") == "model key is empty"


@pytest.mark.parametrize("args, text", [
    (("k", "PYTORCH", "CPU", "BLOB", b"x"), "unsupported backend"),
    (("k", "TORCH", "TPU", "BLOB", b"x"), "Invalid DEVICE"),
    (("k", "TORCH", "CPU:x", "BLOB", b"x"), "Invalid DEVICE"),
    (("k", "TORCH", "CPU", "BATCHSIZE", -1, "BLOB", b"x"), "Invalid argument for BATCHSIZE"),
    (("k", "TORCH", "CPU", "MINBATCHSIZE", 2, "BLOB", b"x"), "MINBATCHSIZE specified without BATCHSIZE"),
    (("k", "TORCH", "CPU", "BATCHSIZE", 2, "MINBATCHTIMEOUT", 5, "BLOB"), "MINBATCHTIMEOUT specified without MINBATCHSIZE"),
    (("k", "TORCH", "CPU", "INPUTS", 1, "x", "BLOB", b"x"), "INPUTS argument should not be specified for this backend"),
    (("k", "TF", "CPU", "BLOB", b"x"), "INPUTS not specified for TF"),
    (("k", "TF", "CPU", "INPUTS", 0, "OUTPUTS", 1, "y", "BLOB", b"x"), "Invalid argument for input_count"),
    (("k", "TF", "CPU", "INPUTS", 3, "x", "BLOB"), "number of model inputs does not match the number of given arguments"),
    (("k", "TF", "CPU", "INPUTS", 1, "x", "BLOB", b"x"), "OUTPUTS not specified for TF"),
    (("k", "TORCH", "CPU", "TAG", "t", "blobby"), "Invalid argument, expected BLOB"),
    (("k", "TORCH", "CPU", "TAG", "t", "BLOB"), "Insufficient arguments, missing model BLOB"),
])
def test_modelstore_errors(conn: redis.Redis, args: tuple[object, ...], text: str) -> None:
    assert text in err(conn, "AI.MODELSTORE", *args)
    assert conn.exists("k") == 0


def test_model_and_script_keys_of_other_types(conn: redis.Redis) -> None:
    conn.set("str", "x")
    wrongtype = "WRONGTYPE Operation against a key holding the wrong kind of value"
    assert err(conn, "AI.MODELSTORE", "str", "ONNX", "CPU", "BLOB", b"x") == wrongtype
    assert err(conn, "AI.MODELGET", "str") == wrongtype
    assert err(conn, "AI.SCRIPTSET", "str", "CPU", "SOURCE", "x") == wrongtype
    assert err(conn, "AI.SCRIPTGET", "str") == wrongtype
    conn.execute_command("AI.SCRIPTSET", "script", "CPU", "SOURCE", SCRIPT)
    assert err(conn, "AI.MODELGET", "script") == wrongtype
    assert err(conn, "AI.INFO", "str") == "cannot find run info for key"


def test_scripts_set_store_get(conn: redis.Redis) -> None:
    assert conn.execute_command("AI.SCRIPTSET", "s1", "CPU", "TAG", "t", "SOURCE", SCRIPT) == b"OK"
    assert conn.execute_command("AI.SCRIPTGET", "s1", "SOURCE") == SCRIPT.encode()
    assert conn.execute_command("AI.SCRIPTGET", "s1", "META") == [
        b"device", b"CPU", b"tag", b"t", b"Entry Points", []]
    assert conn.execute_command(
        "AI.SCRIPTSTORE", "s2", "GPU", "ENTRY_POINTS", 2, "f", "g", "SOURCE", SCRIPT) == b"OK"
    assert conn.execute_command("AI.SCRIPTGET", "s2") == [
        b"device", b"GPU", b"tag", b"", b"Entry Points", [b"f", b"g"], b"source", SCRIPT.encode()]
    assert conn.type("s2") == b"sscscript"
    assert "wrong number of arguments" in err(conn, "AI.SCRIPTSET", "s3", "CPU", "SOURCE")
    assert err(conn, "AI.SCRIPTSET", "s3", "CPU", "TAG", "t", "SRC", "x") == \
        "Insufficient arguments, missing script SOURCE"
    assert err(conn, "AI.SCRIPTSTORE", "s3", "CPU", "ENTRY_POINTS", "x", "f", "SOURCE", "x") == \
        "Non numeric entry points number provided to AI.SCRIPTSTORE command"
    assert err(conn, "AI.SCRIPTSTORE", "s3", "CPU", "TAG", "t", "SOURCE", "x", "y") == \
        "Insufficient arguments, missing script entry points"
    assert err(conn, "AI.SCRIPTGET", "s3") == "script key is empty"
    assert conn.execute_command("AI.SCRIPTDEL", "s2") == b"OK"
    assert err(conn, "AI.SCRIPTDEL", "s2") == "script key is empty"


def test_info_reset_and_config(conn: redis.Redis) -> None:
    conn.execute_command("AI.MODELSTORE", "im", "TORCH", "CPU", "BLOB", b"x")
    info = conn.execute_command("AI.INFO", "im")
    assert info[::2] == [b"key", b"type", b"backend", b"device", b"tag", b"duration", b"samples",
                         b"calls", b"errors"]
    assert conn.execute_command("AI.INFO", "im", "RESETSTAT") == b"OK"
    assert conn.execute_command("AI.CONFIG", "GET", "MODEL_CHUNK_SIZE") == 535822336
    assert conn.execute_command("AI.CONFIG", "MODEL_CHUNK_SIZE", 4096) == b"OK"
    assert conn.execute_command("AI.CONFIG", "GET", "MODEL_CHUNK_SIZE") == 4096
    assert err(conn, "AI.CONFIG", "MODEL_CHUNK_SIZE", 0) == "MODEL_CHUNK_SIZE: invalid chunk size"
    assert err(conn, "AI.CONFIG", "MODEL_CHUNK_SIZE") == "MODEL_CHUNK_SIZE: missing chunk size"
    assert conn.execute_command("AI.CONFIG", "BACKENDSPATH", "/opt/backends") == b"OK"
    assert conn.execute_command("AI.CONFIG", "GET", "BACKENDSPATH") == b"/opt/backends"
    assert conn.execute_command("AI.CONFIG", "LOADBACKEND", "TORCH", "/x/torch.so") == b"OK"
    assert err(conn, "AI.CONFIG", "LOADBACKEND", "CAFFE", "/x.so") == "unsupported backend"
    assert conn.execute_command("AI.CONFIG", "GET", "NOTHING") is None
    assert err(conn, "AI.CONFIG", "RESET") == "unsupported subcommand"


def test_model_copy_and_dump_restore(conn: redis.Redis) -> None:
    conn.execute_command("AI.MODELSTORE", "orig", "ONNX", "CPU", "TAG", "x", "BLOB", b"123")
    assert conn.copy("orig", "copied")
    conn.execute_command("AI.MODELDEL", "orig")
    assert conn.execute_command("AI.MODELGET", "copied", "BLOB") == b"123"
    conn.restore("restored", 0, conn.dump("copied"))
    assert conn.execute_command("AI.MODELGET", "restored", "META")[5] == b"x"
    assert (conn.memory_usage("restored") or 0) > 3
