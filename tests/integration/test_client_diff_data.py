"""Datasets, aggregation lists, existence checks and key prefixes through the real smartredis
0.6.1 and through sscontainer.client against the same database: equal results, the same
exception classes, and what either writes the other reads (standalone, UDS, cluster)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import sscontainer.client as ours
from tests.client_diff import equal, same
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


def view(ds: Any) -> dict[str, Any]:
    """Everything readable from a (real or our) dataset, for comparison."""
    fields = {}
    for name in sorted(ds.get_metadata_field_names()):
        kind = ds.get_metadata_field_type(name)  # SmartRedis's list datasets say "STRING"
        if kind is str or kind == "STRING":
            fields[name] = ds.get_meta_strings(name)
        else:  # copied at once: SmartRedis's arrays point into the dataset's memory
            fields[name] = np.array(ds.get_meta_scalars(name), copy=True)
    tensors = {name: np.array(ds.get_tensor(name), copy=True) for name in ds.get_tensor_names()}
    return {"name": ds.get_name(), "fields": fields, "tensors": tensors}


def fill(module: Any, name: str, tensors: bool = False) -> Any:
    ds = module.Dataset(name)
    ds.add_meta_scalar("i64", 7)
    ds.add_meta_scalar("i64", -8)
    ds.add_meta_scalar("f64", 2.5)
    ds.add_meta_scalar("f32", np.float32(1.25))
    ds.add_meta_scalar("i32", np.int32(-3))
    ds.add_meta_scalar("u32", np.uint32(3))
    ds.add_meta_scalar("u64", np.uint64(2**64 - 1))
    ds.add_meta_string("who", "producer")
    ds.add_meta_string("who", "ünïcode")
    if tensors:
        for i, dtype in enumerate(DTYPES):
            ds.add_tensor(f"t_{dtype}", (np.arange(12) * (i + 1)).astype(dtype).reshape(3, 4))
    return ds


@pytest.mark.parametrize("tensors", [False, True], ids=["metadata", "with_tensors"])
def test_datasets_cross_read(pair: Pair, tensors: bool) -> None:
    if tensors:
        require_redisai(pair.ours)
    pair.real.put_dataset(fill(pair.sr, "from_real", tensors))
    pair.ours.put_dataset(fill(ours, "from_ours", tensors))
    for name in ("from_real", "from_ours"):
        theirs, mine = pair.real.get_dataset(name), pair.ours.get_dataset(name)
        assert equal(view(theirs), view(mine))
        assert view(mine)["fields"]["u64"][0] == 2**64 - 1
        for call in ("dataset_exists", "get_dataset"):
            same(lambda c=call, n=name: view_or_value(getattr(pair.real, c)(n)),
                 lambda c=call, n=name: view_or_value(getattr(pair.ours, c)(n)))
        same(lambda n=name: pair.real.poll_dataset(n, 5, 3),
             lambda n=name: pair.ours.poll_dataset(n, 5, 3))


def view_or_value(value: Any) -> Any:
    return value if isinstance(value, bool) else view(value)


def content(ds: Any) -> dict[str, Any]:
    found = view(ds)
    del found["name"]
    return found


def test_dataset_operations(pair: Pair) -> None:
    """Each client copies, renames and deletes its own; both read every result."""
    a, b = pair.real, pair.ours
    a.put_dataset(fill(pair.sr, "a_src"))
    b.put_dataset(fill(ours, "b_src"))
    same(lambda: a.copy_dataset("a_src", "a_copy"), lambda: b.copy_dataset("b_src", "b_copy"))
    same(lambda: a.rename_dataset("a_copy", "a_moved"),
         lambda: b.rename_dataset("b_copy", "b_moved"))
    for name in ("a_moved", "b_moved"):
        same(lambda n=name: content(a.get_dataset(n)), lambda n=name: content(b.get_dataset(n)))
        assert b.get_dataset(name).get_name() == name
    same(lambda: (a.dataset_exists("b_copy"), a.dataset_exists("b_moved")),
         lambda: (b.dataset_exists("a_copy"), b.dataset_exists("a_moved")))
    same(lambda: content(a.get_dataset("b_moved")), lambda: content(b.get_dataset("a_src")))
    same(lambda: a.delete_dataset("b_moved"), lambda: b.delete_dataset("a_moved"))
    same(lambda: (a.dataset_exists("a_moved"), a.key_exists("{b_moved}.meta")),
         lambda: (b.dataset_exists("b_moved"), b.key_exists("{a_moved}.meta")))


BAD_DATASET_CALLS = [
    ("get missing", lambda c, m: c.get_dataset("nope")),
    ("delete missing", lambda c, m: c.delete_dataset("nope")),
    ("copy missing", lambda c, m: c.copy_dataset("nope", "x")),
    ("rename missing", lambda c, m: c.rename_dataset("nope", "x")),
    ("put empty", lambda c, m: c.put_dataset(m.Dataset("empty"))),
    ("put not a dataset", lambda c, m: c.put_dataset("ds")),
    ("name not str", lambda c, m: c.get_dataset(5)),
    ("exists not str", lambda c, m: c.dataset_exists(None)),
    ("poll bad tries", lambda c, m: c.poll_dataset("x", 1, "3")),
]


@pytest.mark.parametrize("case", BAD_DATASET_CALLS, ids=[c[0] for c in BAD_DATASET_CALLS])
def test_bad_dataset_calls(pair: Pair, case: Any) -> None:
    call = case[1]
    same(lambda: call(pair.real, pair.sr), lambda: call(pair.ours, ours))


def test_lists(pair: Pair) -> None:
    a, b = pair.real, pair.ours
    for i in range(4):
        writer, module = ((a, pair.sr), (b, ours))[i % 2]
        ds = fill(module, f"ds{i}")
        writer.put_dataset(ds)
        writer.append_to_list("L", ds)
    writer_only = pair.sr.Dataset("never_stored")
    a.append_to_list("L", writer_only)  # an entry whose dataset is missing: an empty dataset
    same(lambda: a.get_list_length("L"), lambda: b.get_list_length("L"))
    names = lambda datasets: [d.get_name() for d in datasets]  # noqa: E731
    same(lambda: names(a.get_datasets_from_list("L")), lambda: names(b.get_datasets_from_list("L")))
    same(lambda: [view(d) for d in a.get_datasets_from_list("L")[:4]],
         lambda: [view(d) for d in b.get_datasets_from_list("L")[:4]])
    for start, end in ((0, 0), (-1, -1), (1, 3), (3, 1), (-3, 10), (7, 9)):
        same(lambda s=start, e=end: names(a.get_dataset_list_range("L", s, e)),
             lambda s=start, e=end: names(b.get_dataset_list_range("L", s, e)))
    for poll in ("poll_list_length", "poll_list_length_gte", "poll_list_length_lte"):
        for length in (4, 5, 6):
            same(lambda p=poll, n=length: getattr(a, p)("L", n, 1, 2),
                 lambda p=poll, n=length: getattr(b, p)("L", n, 1, 2))
    same(lambda: a.copy_list("L", "L2"), lambda: b.copy_list("L", "L3"))
    same(lambda: names(a.get_datasets_from_list("L3")), lambda: names(b.get_datasets_from_list("L2")))
    same(lambda: a.rename_list("L2", "L4"), lambda: b.rename_list("L3", "L5"))
    same(lambda: (a.get_list_length("L2"), a.get_list_length("L5")),
         lambda: (b.get_list_length("L3"), b.get_list_length("L4")))
    same(lambda: a.delete_list("L4"), lambda: b.delete_list("L5"))
    same(lambda: a.get_list_length("L4"), lambda: b.get_list_length("L5"))
    same(lambda: a.copy_list("L", "L"), lambda: b.copy_list("L", "L"))


BAD_LIST_CALLS = [
    ("copy missing", lambda c, m: c.copy_list("nope", "x")),
    ("rename missing", lambda c, m: c.rename_list("nope", "x")),
    ("copy empty name", lambda c, m: c.copy_list("", "x")),
    ("rename empty name", lambda c, m: c.rename_list("x", "")),
    ("negative length", lambda c, m: c.poll_list_length("L", -1, 1, 1)),
    ("negative gte", lambda c, m: c.poll_list_length_gte("L", -2, 1, 1)),
    ("range empty name", lambda c, m: c.get_dataset_list_range("", 0, 1)),
    ("from empty name", lambda c, m: c.get_datasets_from_list("")),
    ("range not int", lambda c, m: c.get_dataset_list_range("L", "0", 1)),
    ("append not a dataset", lambda c, m: c.append_to_list("L", "ds")),
    ("length not str", lambda c, m: c.get_list_length(3)),
    ("missing list length", lambda c, m: c.get_list_length("nope")),
    ("missing list datasets", lambda c, m: len(c.get_datasets_from_list("nope"))),
]


@pytest.mark.parametrize("case", BAD_LIST_CALLS, ids=[c[0] for c in BAD_LIST_CALLS])
def test_bad_list_calls(pair: Pair, case: Any) -> None:
    call = case[1]
    same(lambda: call(pair.real, pair.sr), lambda: call(pair.ours, ours))


def test_existence_and_polling(pair: Pair) -> None:
    a, b = pair.real, pair.ours
    a.put_dataset(fill(pair.sr, "here"))
    for key in ("{here}.meta", "nope", "here"):
        same(lambda k=key: a.key_exists(k), lambda k=key: b.key_exists(k))
        same(lambda k=key: a.poll_key(k, 5, 2), lambda k=key: b.poll_key(k, 5, 2))
        same(lambda k=key: a.tensor_exists(k), lambda k=key: b.tensor_exists(k))
        same(lambda k=key: a.poll_tensor(k, 5, 2), lambda k=key: b.poll_tensor(k, 5, 2))
        same(lambda k=key: a.model_exists(k), lambda k=key: b.model_exists(k))
    for bad in ((1, 5, 2), ("k", "5", 2), ("k", 5, 2.0)):
        same(lambda x=bad: a.poll_key(*x), lambda x=bad: b.poll_key(*x))


def test_prefixes_and_data_sources(pair: Pair) -> None:
    prod_a = pair.make(SSKEYOUT="prodA")
    prod_b = pair.make(SSKEYOUT="prodB")
    consumer = pair.make(SSKEYIN="prodA,prodB")
    for i, (real, mine) in enumerate((prod_a, prod_b)):
        writer, module = ((real, pair.sr), (mine, ours))[i]  # one real, one ours
        ds = fill(module, "ds")
        writer.put_dataset(ds)
        writer.append_to_list("L", ds)
    keys = pair.ours
    assert keys.key_exists("prodA.{ds}.meta") and keys.key_exists("prodB.{ds}.meta")
    assert keys.key_exists("prodA.L") and keys.key_exists("prodB.L")
    real, mine = consumer
    for source in ("prodA", "prodB"):
        same(lambda s=source: real.set_data_source(s), lambda s=source: mine.set_data_source(s))
        same(lambda: view(real.get_dataset("ds")), lambda: view(mine.get_dataset("ds")))
        same(lambda: [d.get_name() for d in real.get_datasets_from_list("L")],
             lambda: [d.get_name() for d in mine.get_datasets_from_list("L")])
    same(lambda: real.set_data_source("prod C"), lambda: mine.set_data_source("prod C"))
    with pytest.raises(pair.sr.error.RedisRuntimeError):
        real.set_data_source("prodC")  # not in SSKEYIN: SmartRedis refuses it ...
    mine.set_data_source("prodC")  # ... sscontainer's client reads its keys (DESIGN.md)
    mine.set_data_source("prodB")
    same(lambda: real.use_dataset_ensemble_prefix(0), lambda: mine.use_dataset_ensemble_prefix(0))
    for toggle in ("use_dataset_ensemble_prefix", "use_list_ensemble_prefix",
                   "use_tensor_ensemble_prefix", "use_model_ensemble_prefix"):
        same(lambda t=toggle: getattr(real, t)(False), lambda t=toggle: getattr(mine, t)(False))
    same(lambda: real.dataset_exists("ds"), lambda: mine.dataset_exists("ds"))
    same(lambda: real.get_list_length("L"), lambda: mine.get_list_length("L"))
