"""Tensors through the real smartredis 0.6.1 and sscontainer.client against the same database
(AI.TENSORSET / AI.TENSORGET): each reads what the other wrote, for all 8 types; the same
results and exception classes for every tensor call (standalone, UDS, cluster)."""

from __future__ import annotations

from typing import Any

import numpy as np
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

DTYPES = ["float64", "float32", "int64", "int32", "int16", "int8", "uint16", "uint8"]
SHAPES = [(1,), (16,), (3, 4), (2, 3, 4), (2, 1, 3, 1), (262_144,)]


def sample(dtype: str, shape: tuple[int, ...], seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        return (rng.standard_normal(shape) * 1e3).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True)


@pytest.fixture()
def tensors(pair: Pair) -> Pair:
    require_redisai(pair.ours)
    return pair


@pytest.mark.parametrize("dtype", DTYPES)
def test_each_reads_what_the_other_wrote(tensors: Pair, dtype: str) -> None:
    a, b = tensors.real, tensors.ours
    for i, shape in enumerate(SHAPES):
        data = sample(dtype, shape, i)
        a.put_tensor(f"r{i}", data)
        b.put_tensor(f"o{i}", data)
        for name in (f"r{i}", f"o{i}"):
            got = same(lambda n=name: a.get_tensor(n), lambda n=name: b.get_tensor(n))
            assert got.dtype == data.dtype and np.array_equal(got, data)
            assert got.flags.writeable and got.flags.c_contiguous
            same(lambda n=name: a.tensor_exists(n), lambda n=name: b.tensor_exists(n))


def test_views_are_sent_in_c_order(tensors: Pair) -> None:
    base = np.arange(60, dtype=np.float32).reshape(6, 10)
    for name, view in {"strided": base[::2, 1::3], "transposed": base.T,
                       "reversed": base[::-1, ::-1]}.items():
        tensors.real.put_tensor("real_" + name, view)
        tensors.ours.put_tensor("ours_" + name, view)
        same(lambda n=name: tensors.real.get_tensor("ours_" + n),
             lambda n=name: tensors.ours.get_tensor("real_" + n))
        assert np.array_equal(tensors.ours.get_tensor("real_" + name), view)


def test_copy_rename_delete_poll(tensors: Pair) -> None:
    a, b = tensors.real, tensors.ours
    data = sample("int32", (5, 7), 3)
    a.put_tensor("a", data)
    b.put_tensor("b", data)
    same(lambda: a.copy_tensor("b", "a_copy"), lambda: b.copy_tensor("a", "b_copy"))
    same(lambda: a.get_tensor("b_copy"), lambda: b.get_tensor("a_copy"))
    # in a cluster these land in different slots: copied then deleted, not RENAMEd
    same(lambda: a.rename_tensor("a_copy", "a_moved"), lambda: b.rename_tensor("b_copy", "b_moved"))
    same(lambda: (a.tensor_exists("b_copy"), a.get_tensor("b_moved")),
         lambda: (b.tensor_exists("a_copy"), b.get_tensor("a_moved")))
    same(lambda: a.rename_tensor("{x}1", "{x}2"), lambda: b.rename_tensor("{x}3", "{x}4"))
    same(lambda: a.delete_tensor("b_moved"), lambda: b.delete_tensor("a_moved"))
    same(lambda: a.delete_tensor("b_moved"), lambda: b.delete_tensor("a_moved"))
    for name in ("a", "a_moved", "nope"):
        same(lambda n=name: a.poll_tensor(n, 5, 2), lambda n=name: b.poll_tensor(n, 5, 2))
        same(lambda n=name: a.key_exists(n), lambda n=name: b.key_exists(n))


def ds(module: Any) -> Any:
    dataset = module.Dataset("d")
    dataset.add_meta_string("k", "v")
    return dataset


BAD_TENSOR_CALLS = [
    ("get missing", lambda c, m: c.get_tensor("nope")),
    ("copy missing", lambda c, m: c.copy_tensor("nope", "x")),
    ("rename missing", lambda c, m: c.rename_tensor("nope", "x")),
    ("get a hash", lambda c, m: (c.put_dataset(ds(m)), c.get_tensor("{d}.meta"))),
    ("put onto a hash", lambda c, m: (c.put_dataset(ds(m)), c.put_tensor("{d}.meta",
                                                                          np.zeros(2)))),
    ("bool", lambda c, m: c.put_tensor("t", np.zeros(2, bool))),
    ("float16", lambda c, m: c.put_tensor("t", np.zeros(2, np.float16))),
    ("uint64", lambda c, m: c.put_tensor("t", np.zeros(2, np.uint64))),
    ("a list", lambda c, m: c.put_tensor("t", [1.0, 2.0])),
    ("0-d", lambda c, m: c.put_tensor("t", np.array(1.0))),
    ("a scalar", lambda c, m: c.put_tensor("t", np.float64(1.0))),
    ("empty", lambda c, m: c.put_tensor("t", np.zeros((3, 0)))),
    ("empty name", lambda c, m: c.put_tensor("", np.zeros(2))),
    ("name not str", lambda c, m: c.get_tensor(b"t")),
    ("copy name not str", lambda c, m: c.copy_tensor("t", 3)),
    ("poll not int", lambda c, m: c.poll_tensor("t", 1.5, 2)),
    ("delete not str", lambda c, m: c.delete_tensor(None)),
]


@pytest.mark.parametrize("case", BAD_TENSOR_CALLS, ids=[c[0] for c in BAD_TENSOR_CALLS])
def test_bad_tensor_calls(tensors: Pair, case: Any) -> None:
    call = case[1]
    same(lambda: call(tensors.real, tensors.sr), lambda: call(tensors.ours, ours))


def test_prefixed_tensors_cross_read(tensors: Pair) -> None:
    real_a, _ = tensors.make(SSKEYOUT="prodA")
    _, ours_b = tensors.make(SSKEYOUT="prodB")
    real_a.put_tensor("t", np.array([1, 2], np.int16))
    ours_b.put_tensor("t", np.array([3], np.int16))
    real_c, ours_c = tensors.make(SSKEYIN="prodA,prodB")
    for source in ("prodA", "prodB"):
        real_c.set_data_source(source)
        ours_c.set_data_source(source)
        same(lambda: real_c.get_tensor("t"), lambda: ours_c.get_tensor("t"))
    assert tensors.ours.key_exists("prodA.t") and tensors.ours.key_exists("prodB.t")
