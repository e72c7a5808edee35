"""32 processes x 1,000 tensors each, every tensor checked afterwards by another process.

The workers are forked from the test process (so 32 interpreters do not each pay
for importing numpy and redis); each opens its own Client after the fork.
"""

from __future__ import annotations

import multiprocessing
import os
import traceback

import numpy as np
import pytest

from sscontainer.client.direct import connect
from sscontainer.db.local import LocalDatabase
from tests.integration.client_pairs import require_redisai
from tests.integration.db_fixtures import require_server

DTYPES = ["float64", "float32", "int64", "int32", "int16", "int8", "uint16", "uint8"]
WORKERS = 32
TENSORS = 1000


def expected(worker: int, i: int) -> np.ndarray:
    rng = np.random.default_rng(worker * 100_000 + i)
    return (rng.random((i % 5 + 1, 3)) * 100).astype(DTYPES[i % len(DTYPES)])


def _worker(ssdb: str, worker: int) -> None:
    try:
        client = connect(ssdb, False, logger_name=f"load-{worker}")
        for i in range(TENSORS):
            client.put_tensor(f"w{worker}.t{i}", expected(worker, i))
        client.close()
    except BaseException:
        traceback.print_exc()
        os._exit(1)
    os._exit(0)


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_many_writers_every_tensor_intact() -> None:
    require_server()
    context = multiprocessing.get_context("fork")
    with LocalDatabase() as db:
        with connect(db.ssdb, False) as probe:
            require_redisai(probe)
        procs = [context.Process(target=_worker, args=(db.ssdb, w)) for w in range(WORKERS)]
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join(timeout=100)
        assert [proc.exitcode for proc in procs] == [0] * WORKERS
        with connect(db.ssdb, False) as client:
            keys = client.get_db_node_info([db.ssdb])[0]["Keyspace"]["db0"]
            assert keys.startswith(f"keys={WORKERS * TENSORS},")
            for w in range(WORKERS):
                for i in range(TENSORS):
                    want = expected(w, i)
                    got = client.get_tensor(f"w{w}.t{i}")
                    assert got.dtype == want.dtype and np.array_equal(got, want), (w, i)
