"""Tensors, datasets and aggregation lists through the real SmartRedis 0.6.1 client,
against standalone, Unix-socket and 3-shard cluster databases loading the module."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from sscontainer.db.local import LocalDatabase
from tests.integration.redisai_support import client, db, require_smartredis

__all__ = ["client", "db"]  # the fixtures, used by name

DTYPES = ["float64", "float32", "int8", "int16", "int32", "int64", "uint8", "uint16"]


def _array(dtype: str, shape: tuple[int, ...] = (3, 4, 2)) -> np.ndarray[Any, Any]:
    rng = np.random.default_rng(abs(hash(dtype)) % 1000)
    if dtype.startswith("float"):
        return rng.standard_normal(shape).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True)


@pytest.mark.parametrize("dtype", DTYPES)
def test_tensor_round_trip_of_every_dtype(client: Any, dtype: str) -> None:
    data = _array(dtype)
    client.put_tensor(f"t_{dtype}", data)
    back = client.get_tensor(f"t_{dtype}")
    assert back.dtype == np.dtype(dtype) and back.shape == data.shape
    np.testing.assert_array_equal(back, data)


@pytest.mark.parametrize("dtype", DTYPES)
def test_copy_rename_delete_exists_poll(client: Any, dtype: str) -> None:
    data = _array(dtype, (5,))
    client.put_tensor("src", data)
    assert client.tensor_exists("src") and client.poll_tensor("src", 10, 3)
    client.copy_tensor("src", "copy")
    np.testing.assert_array_equal(client.get_tensor("copy"), data)
    client.rename_tensor("copy", "renamed")
    assert not client.tensor_exists("copy")
    np.testing.assert_array_equal(client.get_tensor("renamed"), data)
    client.put_tensor("src", data + 1)  # an overwrite is a new tensor; the copy keeps its value
    np.testing.assert_array_equal(client.get_tensor("renamed"), data)
    client.delete_tensor("renamed")
    client.delete_tensor("src")
    assert not client.tensor_exists("renamed") and not client.poll_tensor("src", 10, 2)


def test_missing_tensor_is_a_server_error(client: Any) -> None:
    with pytest.raises(Exception, match="tensor key is empty or in a different shard"):
        client.get_tensor("never_put")


def test_fortran_ordered_and_large_tensors(client: Any) -> None:
    data = np.asfortranarray(np.arange(24, dtype=np.float32).reshape(2, 3, 4))
    client.put_tensor("fortran", np.ascontiguousarray(data))
    np.testing.assert_array_equal(client.get_tensor("fortran"), data)
    big = np.random.default_rng(1).standard_normal((512, 1024)).astype(np.float32)  # 2 MiB
    client.put_tensor("big", big)
    np.testing.assert_array_equal(client.get_tensor("big"), big)


def test_datasets_with_scalar_and_string_metadata(client: Any) -> None:
    smartredis = require_smartredis()
    ds = smartredis.Dataset("run1")
    ds.add_tensor("temperature", _array("float64", (4, 4)))
    ds.add_tensor("flags", _array("uint8", (7,)))
    ds.add_meta_scalar("step", 3)
    ds.add_meta_scalar("step", 4)
    ds.add_meta_scalar("dt", 0.25)
    ds.add_meta_string("solver", "cg")
    ds.add_meta_string("solver", "gmres")
    client.put_dataset(ds)
    assert client.dataset_exists("run1") and client.poll_dataset("run1", 10, 2)
    back = client.get_dataset("run1")
    np.testing.assert_array_equal(back.get_tensor("temperature"), ds.get_tensor("temperature"))
    np.testing.assert_array_equal(back.get_tensor("flags"), ds.get_tensor("flags"))
    assert list(back.get_meta_scalars("step")) == [3, 4]
    assert list(back.get_meta_scalars("dt")) == [0.25]
    assert back.get_meta_strings("solver") == ["cg", "gmres"]
    client.copy_dataset("run1", "run2")
    client.rename_dataset("run2", "run3")
    assert not client.dataset_exists("run2")
    np.testing.assert_array_equal(client.get_dataset("run3").get_tensor("temperature"),
                                  ds.get_tensor("temperature"))
    client.delete_dataset("run3")
    assert not client.dataset_exists("run3")


def test_aggregation_lists(client: Any) -> None:
    smartredis = require_smartredis()
    for i in range(3):
        ds = smartredis.Dataset(f"member{i}")
        ds.add_tensor("x", np.full((2,), i, dtype=np.int32))
        client.put_dataset(ds)
        client.append_to_list("members", ds)
    assert client.get_list_length("members") == 3
    assert client.poll_list_length("members", 3, 10, 2)
    assert client.poll_list_length_gte("members", 2, 10, 2)
    got = client.get_datasets_from_list("members")
    assert [int(d.get_tensor("x")[0]) for d in got] == [0, 1, 2]
    middle = client.get_dataset_list_range("members", 1, 1)
    assert [d.get_name() for d in middle] == ["member1"]
    client.copy_list("members", "members_copy")
    client.rename_list("members_copy", "members_moved")
    assert client.get_list_length("members_copy") == 0
    assert client.get_list_length("members_moved") == 3
    client.delete_list("members_moved")
    assert client.get_list_length("members_moved") == 0


def test_flush_db_removes_tensors(client: Any, db: LocalDatabase) -> None:
    client.put_tensor("gone_after_flush", _array("int16", (2,)))
    client.flush_db([str(a) for a in db.addresses])
    assert not client.tensor_exists("gone_after_flush")
