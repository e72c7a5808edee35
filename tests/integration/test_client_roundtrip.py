"""Client round trips on a standalone server, a Unix socket and a 3-shard cluster."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from sscontainer.client import Client, Dataset
from sscontainer.client.tensor_codec import DTYPES
from sscontainer.db.local import LocalDatabase
from sscontainer.errors import ClientError, InvalidNameError, SSConfigError
from tests.integration.db_fixtures import cluster_db, standalone_db, uds_db

__all__ = ["cluster_db", "standalone_db", "uds_db"]

SHAPES = [(), (1,), (16,), (3, 4), (2, 3, 4), (2, 1, 3, 1), (0,)]


@pytest.fixture(params=["standalone", "uds", "cluster"])
def client(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    db: LocalDatabase = request.getfixturevalue(f"{request.param}_db")
    for name in ("SSKEYOUT", "SSKEYIN", "SSDB", "SR_DB_TYPE"):
        monkeypatch.delenv(name, raising=False)
    for key, value in db.env.items():
        monkeypatch.setenv(key, value)
    with Client(logger_name=f"roundtrip-{request.param}") as c:
        c.flush_db()
        yield c


def _sample(dtype: str, shape: tuple[int, ...], seed: int) -> np.ndarray:
    info_max = 100 if np.dtype(dtype).kind == "f" else np.iinfo(dtype).max
    rng = np.random.default_rng(seed)
    return (rng.random(shape) * info_max).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_dtype_and_shape(client: Client, dtype: str) -> None:
    for i, shape in enumerate(SHAPES):
        data = _sample(dtype, shape, i)
        name = f"t_{dtype}_{i}"
        client.put_tensor(name, data)
        out = client.get_tensor(name)
        assert out.dtype == np.dtype(dtype)
        assert out.shape == shape
        assert np.array_equal(out, data)


def test_non_contiguous_fortran_and_big_endian(client: Client) -> None:
    base = np.arange(60, dtype=np.float32).reshape(6, 10)
    cases = {
        "strided": base[::2, 1::3],
        "transposed": base.T,
        "fortran": np.asfortranarray(base),
        "reversed": base[::-1, ::-1],
        "big_endian": base.astype(">f4"),
        "scalar": np.float64(3.25),
    }
    for name, data in cases.items():
        client.put_tensor(name, data)
        out = client.get_tensor(name)
        assert np.array_equal(out, data), name
        assert out.flags.c_contiguous


def test_unpack_tensor_fills_the_callers_array(client: Client) -> None:
    data = np.arange(12, dtype=np.int32).reshape(3, 4)
    client.put_tensor("u", data)
    same_shape = np.zeros((3, 4), dtype=np.int32)
    client.unpack_tensor("u", same_shape)
    assert np.array_equal(same_shape, data)
    flat = np.zeros(12, dtype=np.int32)
    client.unpack_tensor("u", flat)
    assert np.array_equal(flat, data.ravel())
    with pytest.raises(ClientError, match="the tensor is int32"):
        client.unpack_tensor("u", np.zeros((3, 4), dtype=np.int64))
    with pytest.raises(ClientError, match="shape"):
        client.unpack_tensor("u", np.zeros(5, dtype=np.int32))


def test_tensor_management(client: Client) -> None:
    data = np.arange(5, dtype=np.uint8)
    client.put_tensor("a", data)
    assert client.tensor_exists("a") and client.key_exists("a")
    client.copy_tensor("a", "b")
    assert np.array_equal(client.get_tensor("b"), data)
    client.rename_tensor("b", "c")
    assert not client.tensor_exists("b")
    assert np.array_equal(client.get_tensor("c"), data)
    client.delete_tensor("c")
    assert not client.tensor_exists("c")
    client.delete_tensor("c")  # deleting twice is fine
    with pytest.raises(ClientError, match="does not exist"):
        client.get_tensor("c")
    with pytest.raises(ClientError, match="does not exist"):
        client.rename_tensor("c", "d")
    assert client.poll_tensor("a", 10, 3)
    assert not client.poll_tensor("never", 10, 3)
    assert client.poll_key("a", 10, 1)
    client.redis.set("plain", b"not a tensor")
    with pytest.raises(ClientError, match="does not hold a tensor"):
        client.get_tensor("plain")


def test_datasets(client: Client) -> None:
    ds = Dataset("sample")
    ds.add_tensor("x", np.arange(6, dtype=np.float64).reshape(2, 3))
    ds.add_tensor("y", np.array([1, 2], dtype=np.int8))
    ds.add_meta_scalar("time", 0.5)
    ds.add_meta_scalar("time", 1.5)
    ds.add_meta_string("source", "test")
    client.put_dataset(ds)
    assert client.dataset_exists("sample")
    assert client.poll_dataset("sample", 10, 2)
    got = client.get_dataset("sample")
    assert got.name == "sample"
    assert sorted(got.get_tensor_names()) == ["x", "y"]
    assert np.array_equal(got.get_tensor("x"), ds.get_tensor("x"))
    assert got.get_tensor("y").dtype == np.int8
    assert list(got.get_meta_scalars("time")) == [0.5, 1.5]
    assert got.get_meta_strings("source") == ["test"]
    client.copy_dataset("sample", "copy")
    assert client.get_dataset("copy").get_meta_strings("source") == ["test"]
    client.rename_dataset("copy", "moved")
    assert not client.dataset_exists("copy") and client.dataset_exists("moved")
    client.delete_dataset("sample")
    assert not client.dataset_exists("sample")
    assert not client.key_exists("{sample}.x")
    with pytest.raises(ClientError, match="does not exist"):
        client.get_dataset("sample")
    if client.is_cluster:  # one slot for all of a dataset's keys
        slots = {client.redis.keyslot(k) for k in ("{moved}.meta", "{moved}.x", "{moved}.y")}
        assert len(slots) == 1


def test_aggregation_lists(client: Client) -> None:
    for i in range(4):
        ds = Dataset(f"item_{i}")
        ds.add_tensor("v", np.full(3, i, dtype=np.int64))
        client.put_dataset(ds)
        client.append_to_list("results", ds)
    assert client.get_list_length("results") == 4
    assert client.poll_list_length("results", 4, 10, 2)
    assert not client.poll_list_length("results", 5, 10, 2)
    assert client.poll_list_length_gte("results", 3, 10, 1)
    assert client.poll_list_length_lte("results", 4, 10, 1)
    items = client.get_datasets_from_list("results")
    assert [d.name for d in items] == [f"item_{i}" for i in range(4)]
    assert [int(d.get_tensor("v")[0]) for d in items] == [0, 1, 2, 3]
    assert [d.name for d in client.get_dataset_list_range("results", 1, 2)] == ["item_1", "item_2"]
    client.copy_list("results", "backup")
    client.rename_list("backup", "moved")
    assert client.get_list_length("moved") == 4 and client.get_list_length("backup") == 0
    client.delete_list("results")
    assert client.get_list_length("results") == 0
    with pytest.raises(SSConfigError):
        client.poll_list_length("results", -1, 10, 1)


def test_config_and_flush(client: Client) -> None:
    client.config_set("maxclients", "777")
    assert client.config_get("maxclients") == {"maxclients": "777"}
    client.put_tensor("gone", np.zeros(1))
    client.flush_db()
    assert not client.tensor_exists("gone")
    with pytest.raises(ClientError, match="maxclients"):
        client.config_set("maxclients", "not-a-number")


def test_bad_input_is_rejected_before_the_network(client: Client) -> None:
    for name in ("", "with space", "ctl\x01", "x" * 5000):
        with pytest.raises(InvalidNameError):
            client.put_tensor(name, np.zeros(1))
    for data in (np.zeros(2, np.complex128), np.zeros(2, bool), [1.0, 2.0]):
        with pytest.raises(SSConfigError, match="float64, float32"):
            client.put_tensor("bad", data)  # type: ignore[arg-type]
    with pytest.raises(SSConfigError):
        client.poll_tensor("x", -5, 1)


def test_smartredis_constructor_forms(standalone_db: LocalDatabase,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSDB", standalone_db.ssdb)
    monkeypatch.delenv("SR_DB_TYPE", raising=False)
    with Client(False) as from_env:  # Client(cluster)
        assert not from_env.is_cluster
    monkeypatch.delenv("SSDB")
    with Client(False, standalone_db.ssdb) as positional:  # Client(cluster, address)
        assert str(positional) == f"Client(standalone database at {standalone_db.ssdb})"
    with Client(address=standalone_db.ssdb, cluster=False) as keywords:
        keywords.put_tensor("kw", np.ones(2, np.int8))
        out = np.zeros(2, np.int8)
        keywords.unpack_tensor("kw", result_array=out)
        assert out.tolist() == [1, 1]
