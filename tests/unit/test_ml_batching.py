"""How the worker groups jobs into batches and splits results back (no services)."""

from __future__ import annotations

import numpy as np
import pytest

from sscontainer.ml.batching import Batcher, concat_inputs, pack, split_outputs
from sscontainer.ml.jobs import Job


def meta(batch_size=0, min_batch_size=0, min_batch_timeout=0, kind="MODEL", version="v1"):
    return {"kind": kind, "version": version, "batch_size": batch_size,
            "min_batch_size": min_batch_size, "min_batch_timeout": min_batch_timeout}


def job(inputs, key="cnn", meta_=None, arrived=0.0, fn=""):
    settings = meta_ or meta(batch_size=8)
    return Job(id=1, key=key.encode(), backend="ONNX", device="CPU", fn=fn, inputs=inputs,
               n_outputs=1, waited_ms=0, arrived=arrived, **settings)


def pending(rows=1, width=3, key="cnn", meta_=None, arrived=0.0, dtype=np.float32, fn=""):
    data = np.arange(rows * width, dtype=dtype).reshape(rows, width)
    return job([data], key, meta_, arrived, fn)


def test_pack_fills_batches_up_to_batch_size_in_arrival_order():
    items = [pending(rows) for rows in (3, 3, 3, 1)]
    batches = pack(items, batch_size=8)
    assert [[i.samples for i in b] for b in batches] == [[3, 3], [3, 1]]


def test_pack_keeps_different_shapes_and_dtypes_apart_and_oversized_alone():
    a1, wide, f64, big, a2 = (
        pending(1, 3), pending(1, 4), pending(1, 3, dtype=np.float64), pending(9, 3), pending(1, 3)
    )
    batches = pack([a1, wide, f64, big, a2], batch_size=8)
    assert sorted([id(i) for i in b] for b in batches) == sorted(
        [[id(big)], [id(a1), id(a2)], [id(wide)], [id(f64)]]
    )


def test_a_scalar_input_is_never_batched():
    scalar = job([np.ones((), np.float32)])
    other = pending()
    assert scalar.signature() is None
    assert sorted(len(b) for b in pack([scalar, other], batch_size=8)) == [1, 1]


def test_concat_and_split_give_each_caller_its_rows():
    items = [pending(2), pending(1), pending(3)]
    joined = concat_inputs(items)[0]
    assert joined.shape == (6, 3)
    doubled = [joined * 2, joined.sum(axis=1)]
    parts = split_outputs(doubled, items)
    for item, (out, summed) in zip(items, parts, strict=True):
        np.testing.assert_array_equal(out, item.inputs[0] * 2)
        np.testing.assert_array_equal(summed, item.inputs[0].sum(axis=1))


def test_split_refuses_an_output_that_is_not_per_sample():
    items = [pending(2), pending(1)]
    with pytest.raises(ValueError, match="does not follow the batch of 3"):
        split_outputs([np.zeros((2, 3))], items)


def test_batcher_runs_unbatched_models_and_scripts_one_by_one():
    batcher = Batcher()
    for _ in range(3):
        batcher.add(pending(meta_=meta(batch_size=0)))
    batcher.add(pending(key="s", fn="f", meta_=meta(kind="SCRIPT", batch_size=8)))
    ready = batcher.take_ready(now=0.0)
    assert sorted(len(b) for b in ready) == [1, 1, 1, 1]
    assert len(batcher) == 0


def test_batcher_waits_for_min_batch_size_until_the_timeout():
    waiting = meta(batch_size=8, min_batch_size=4, min_batch_timeout=100)
    batcher = Batcher()
    batcher.add(pending(meta_=waiting, arrived=10.0))
    batcher.add(pending(meta_=waiting, arrived=10.01))
    assert batcher.take_ready(now=10.05) == []
    assert batcher.wait_time(now=10.05) == pytest.approx(0.05)
    (batch,) = batcher.take_ready(now=10.2)  # the oldest waited 100 ms: run what is there
    assert len(batch) == 2 and batcher.wait_time(now=10.2) is None


def test_batcher_runs_as_soon_as_min_batch_size_samples_are_there():
    waiting = meta(batch_size=8, min_batch_size=4, min_batch_timeout=10_000)
    batcher = Batcher()
    batcher.add(pending(rows=3, meta_=waiting))
    assert batcher.take_ready(now=0.0) == []
    batcher.add(pending(rows=1, meta_=waiting))
    (batch,) = batcher.take_ready(now=0.0)
    assert sum(i.samples for i in batch) == 4


def test_a_new_model_version_is_never_batched_with_the_old_one():
    batcher = Batcher()
    batcher.add(pending(meta_=meta(batch_size=8, version="a")))
    batcher.add(pending(meta_=meta(batch_size=8, version="b")))
    assert sorted(len(b) for b in batcher.take_ready(now=0.0)) == [1, 1]
