"""32 processes x 1,000 tensors each, every tensor checked afterwards by another process."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from sscontainer.client import Client
from sscontainer.client.tensor_codec import DTYPES
from sscontainer.db.local import LocalDatabase
from tests.integration.db_fixtures import require_server

WORKERS = 32
TENSORS = 1000

WORKER = textwrap.dedent("""
    import sys
    import numpy as np
    from sscontainer.client import Client

    DTYPES = {dtypes!r}
    worker = int(sys.argv[1])
    client = Client(cluster=False)
    for i in range({tensors}):
        rng = np.random.default_rng(worker * 100_000 + i)
        dtype = DTYPES[i % len(DTYPES)]
        data = (rng.random((i % 5 + 1, 3)) * 100).astype(dtype)
        client.put_tensor(f"w{{worker}}.t{{i}}", data)
    print("done", worker)
""")


def expected(worker: int, i: int) -> np.ndarray:
    rng = np.random.default_rng(worker * 100_000 + i)
    return (rng.random((i % 5 + 1, 3)) * 100).astype(DTYPES[i % len(DTYPES)])


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_many_writers_every_tensor_intact(tmp_path: os.PathLike[str]) -> None:
    require_server()
    script = os.path.join(tmp_path, "worker.py")
    with open(script, "w") as handle:
        handle.write(WORKER.format(dtypes=list(DTYPES), tensors=TENSORS))
    with LocalDatabase() as db:
        env = {k: v for k, v in os.environ.items() if k not in ("SSKEYOUT", "SSKEYIN")}
        env.update(db.env)
        procs = [
            subprocess.Popen(
                [sys.executable, script, str(w)], env=env,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )
            for w in range(WORKERS)
        ]
        for w, proc in enumerate(procs):
            out, err = proc.communicate(timeout=100)
            assert proc.returncode == 0, err
            assert out.strip() == f"done {w}"
        with Client(address=db.ssdb, cluster=False) as client:
            assert client.redis.dbsize() == WORKERS * TENSORS
            for w in range(WORKERS):
                for i in range(TENSORS):
                    want = expected(w, i)
                    got = client.get_tensor(f"w{w}.t{i}")
                    assert got.dtype == want.dtype and np.array_equal(got, want), (w, i)
