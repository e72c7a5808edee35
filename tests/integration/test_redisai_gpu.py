"""GPU device queues on a machine with CUDA: a model stored for GPU runs in the GPU:0
worker (CUDA_VISIBLE_DEVICES=0) with the same results as on the CPU, batched too.

Skipped (with the reason) where PyTorch sees no CUDA device: CI machines have none; the
CPU-only test of the same routing is test_redisai_worker_protocol's."""

from __future__ import annotations

import numpy as np
import pytest

from sscontainer.ml.sample_models import IMAGE, torch_cnn
from tests.integration.ml_models import batch_reporter, require_backend
from tests.integration.redisai_support import (
    module_db,
    queue_state,
    raw,
    wait_for_workers,
    workers_for,
)


def require_cuda() -> None:
    require_backend("torch", "torch")
    import torch

    if not torch.cuda.is_available():
        pytest.skip("no CUDA device here: the GPU worker test needs one")


def test_gpu_models_run_in_the_gpu_worker() -> None:
    require_cuda()
    blob, _module = torch_cnn()
    x = np.random.default_rng(0).random((4, *IMAGE), dtype=np.float32)
    with module_db() as db, workers_for(db, devices=("CPU", "GPU:0")):
        wait_for_workers(db)
        wait_for_workers(db, device="GPU:0")
        conn = raw(db)
        conn.execute_command("AI.TENSORSET", "x", "FLOAT", *x.shape, "BLOB", x.tobytes())
        for key, device in (("cpu_cnn", "CPU"), ("gpu_cnn", "GPU")):
            conn.execute_command("AI.MODELSTORE", key, "TORCH", device, "BLOB", blob)
            assert conn.execute_command("AI.MODELEXECUTE", key, "INPUTS", 1, "x", "OUTPUTS", 1,
                                        f"{key}_y", "TIMEOUT", 60000) == b"OK"
        cpu = np.frombuffer(conn.execute_command("AI.TENSORGET", "cpu_cnn_y", "BLOB"), np.float32)
        gpu = np.frombuffer(conn.execute_command("AI.TENSORGET", "gpu_cnn_y", "BLOB"), np.float32)
        np.testing.assert_allclose(gpu, cpu, rtol=1e-3, atol=1e-4)
        state = queue_state(db)
        assert state["GPU:0"][0] == 1 and state["CPU"][0] == 1
        info = conn.execute_command("AI.INFO", "gpu_cnn")
        assert info[info.index(b"calls") + 1] == 1 and info[info.index(b"device") + 1] == b"GPU"


def test_gpu_batches() -> None:
    require_cuda()
    import threading

    with module_db() as db, workers_for(db, devices=("GPU:0",)):
        wait_for_workers(db, device="GPU:0")
        conn = raw(db)
        conn.execute_command("AI.MODELSTORE", "reporter", "TORCH", "GPU:0", "BATCHSIZE", 4,
                             "MINBATCHSIZE", 4, "MINBATCHTIMEOUT", 60000, "BLOB", batch_reporter())
        outputs: dict[int, int] = {}

        def call(i: int) -> None:
            c = raw(db)
            c.execute_command("AI.TENSORSET", f"in{i}", "FLOAT", 1, 3, "VALUES", i, i, i)
            c.execute_command("AI.MODELEXECUTE", "reporter", "INPUTS", 1, f"in{i}", "OUTPUTS", 1,
                              f"out{i}", "TIMEOUT", 120000)
            outputs[i] = c.execute_command("AI.TENSORGET", f"out{i}", "VALUES")[0]

        threads = [threading.Thread(target=call, args=(i,)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert outputs == {0: 4, 1: 4, 2: 4, 3: 4}
