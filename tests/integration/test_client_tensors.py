"""What sscontainer's client adds to SmartRedis's tensor calls: unpack_tensor straight into
the caller's array, any numpy layout or byte order sent in C order, large tensors."""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
import pytest

import sscontainer.client as ours
from sscontainer.db.local import LocalDatabase
from tests.integration.client_pairs import require_redisai
from tests.integration.db_fixtures import cluster_db, standalone_db, uds_db

__all__ = ["cluster_db", "standalone_db", "uds_db"]


@pytest.fixture(params=["standalone", "uds", "cluster"])
def client(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[
        ours.Client]:
    db: LocalDatabase = request.getfixturevalue(f"{request.param}_db")
    for name in ("SSKEYOUT", "SSKEYIN", "SSDB_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    for key, value in db.env.items():
        monkeypatch.setenv(key, value)
    with ours.Client(None, f"tensors-{request.param}") as c:
        require_redisai(c)
        yield c


def test_unpack_tensor_fills_the_callers_array(client: ours.Client) -> None:
    data = np.arange(24, dtype=np.int16).reshape(2, 3, 4)
    client.put_tensor("t", data)
    for shape in ((2, 3, 4), (24,), (6, 4)):  # same dtype and size: filled as is
        result = np.zeros(shape, np.int16)
        client.unpack_tensor("t", result)
        assert np.array_equal(result.ravel(), data.ravel())
    with pytest.raises(ours.error.RedisInternalError, match="type"):
        client.unpack_tensor("t", np.zeros(24, np.int32))
    with pytest.raises(ours.error.RedisInternalError, match="dimensions"):
        client.unpack_tensor("t", np.zeros(23, np.int16))
    with pytest.raises(TypeError, match="C-contiguous"):
        client.unpack_tensor("t", np.zeros((4, 6), np.int16).T)
    with pytest.raises(ours.error.RedisRuntimeError, match="tensor key is empty"):
        client.unpack_tensor("missing", np.zeros(24, np.int16))
    assert np.array_equal(client.get_tensor("t"), data)  # the connection stayed in step


def test_any_layout_and_byte_order(client: ours.Client) -> None:
    base = np.arange(60, dtype=np.float32).reshape(6, 10)
    for name, value in {"fortran": np.asfortranarray(base), "big_endian": base.astype(">f4"),
                        "non_contiguous": base[:, ::3]}.items():
        client.put_tensor(name, value)
        got = client.get_tensor(name)
        assert got.dtype == np.float32 and np.array_equal(got, value), name


@pytest.mark.parametrize("mib", [1, 64])
def test_large_tensors(client: ours.Client, mib: int) -> None:
    data = np.random.default_rng(mib).random(mib * 131_072)  # float64: mib MiB
    client.put_tensor("big", data)
    got = client.get_tensor("big")
    assert np.array_equal(got, data) and got.flags.writeable
    dataset = ours.Dataset("big_ds")
    dataset.add_tensor("x", data)
    client.put_dataset(dataset)
    assert np.array_equal(client.get_dataset("big_ds").get_tensor("x"), data)


WITHOUT_HIREDIS = """
import sys
sys.modules["hiredis"] = None  # as on an image whose Debian packages lack python3-hiredis
import numpy as np
import sscontainer.client as ours
from sscontainer.client import wire, resp_reader
assert wire.Reader is resp_reader.Reader
client = ours.Client(None, "no-hiredis")
data = np.arange(300_000, dtype=np.int32).reshape(1000, 300)
client.put_tensor("nh", data)
assert np.array_equal(client.get_tensor("nh"), data)
ds = ours.Dataset("nh_ds")
ds.add_tensor("t", data[:3])
ds.add_meta_string("s", "x")
client.put_dataset(ds)
client.append_to_list("nh_list", ds)
back = client.get_datasets_from_list("nh_list")[0]
assert back.get_meta_strings("s") == ["x"] and np.array_equal(back.get_tensor("t"), data[:3])
try:
    client.get_tensor("missing")
except ours.error.RedisRuntimeError as exc:
    assert "tensor key is empty" in str(exc)
print("ok")
"""


def test_the_client_works_without_hiredis(client: ours.Client) -> None:
    from tests.integration.db_fixtures import run_python

    env = {k: v for k, v in os.environ.items() if k in ("SSDB", "SR_DB_TYPE")}
    result = run_python(WITHOUT_HIREDIS, env)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr
