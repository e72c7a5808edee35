"""Model inference through the database against onnxruntime in-process, and batching.

For each model size, starts one server on a Unix socket (sscontainer.db.LocalDatabase)
with one inference worker beside it, and stores a small ONNX CNN (built in memory)
unbatched, with ``batch_size=8``, and with ``batch_size=8, min_batch_size=8``
(waiting at most 5 ms).

1. Latency: one ``put_tensor`` + ``run_model`` + ``get_tensor`` round trip against
   ``InferenceSession.run`` on the same input in this process (target: <= 2x).
2. Throughput: 8 client processes, each looping put/run/get, against the batched
   models and the unbatched one (target: batched >= 3x unbatched). The jobs, their mean
   size and their time (AI.INFO's calls, samples, duration) are printed too.

The default sizes are a dense layer 512 wide (~2.8 M weights, ~0.1-0.2 ms per image
in-process on a 2-CPU VM: the fixed cost of the round trip dominates) and 2048
wide (~11 M weights, ~1-2 ms per image: the model dominates).

    python benchmarks/inference.py [--quick] [--hidden 512,2048]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from typing import Any

import numpy as np

from sscontainer.client import Client
from sscontainer.client.direct import connect
from sscontainer.db.local import LocalDatabase
from sscontainer.ml.processes import start_worker, stop_workers
from sscontainer.ml.sample_models import IMAGE, onnx_cnn

CLIENTS = 8
BATCH = 8


def in_process_session(blob: bytes) -> Any:
    import onnxruntime

    return onnxruntime.InferenceSession(blob, providers=["CPUExecutionProvider"])


def wait_for_worker(client: Client, model: str) -> None:
    client.put_tensor("warm_x", np.zeros((1, *IMAGE), np.float32))
    client.run_model(model, "warm_x", "warm_y")  # waits until the worker serves


def latency(ssdb: str, blob: bytes, batches: int, ops: int) -> tuple[float, float]:
    """Median seconds per call: (onnxruntime in-process, round trip through the database)."""
    client = connect(ssdb, cluster=False)
    session = in_process_session(blob)
    x = np.random.default_rng(1).random((1, *IMAGE), dtype=np.float32)

    def local() -> None:
        session.run(None, {"x": x})

    def remote() -> None:
        client.put_tensor("x", x)
        client.run_model("cnn", "x", "y")
        client.get_tensor("y")

    remote()
    expected = session.run(None, {"x": x})[0]
    if not np.allclose(client.get_tensor("y"), expected, rtol=1e-4, atol=1e-5):
        raise SystemExit("the worker's result differs from onnxruntime in-process")
    local_times, remote_times = [], []
    for _ in range(batches):  # alternate so drift on a busy host hits both alike
        for step, times in ((local, local_times), (remote, remote_times)):
            start = time.perf_counter()
            for _ in range(ops):
                step()
            times.append((time.perf_counter() - start) / ops)
    client.close()
    return statistics.median(local_times), statistics.median(remote_times)


def _client_loop(ssdb: str, model: str, index: int, ops: int, start: Any, done: Any) -> None:
    client = connect(ssdb, cluster=False)
    x = np.random.default_rng(index).random((1, *IMAGE), dtype=np.float32)
    name_in, name_out = f"in{index}", f"out{index}"
    client.put_tensor(name_in, x)
    client.run_model(model, name_in, name_out)
    expected = client.get_tensor(name_out).copy()
    start.wait()
    for _ in range(ops):
        client.put_tensor(name_in, x)
        client.run_model(model, name_in, name_out)
        if not np.array_equal(client.get_tensor(name_out), expected):
            raise SystemExit(f"client {index} got another client's result")
    done.put(index)


def throughput(ssdb: str, model: str, ops: int) -> float:
    """Requests per second of ``CLIENTS`` processes looping put/run/get on ``model``."""
    ctx = mp.get_context("fork")
    start, done = ctx.Barrier(CLIENTS + 1), ctx.Queue()
    procs = [
        ctx.Process(target=_client_loop, args=(ssdb, model, i, ops, start, done))
        for i in range(CLIENTS)
    ]
    for proc in procs:
        proc.start()
    start.wait()
    began = time.perf_counter()
    finished = [done.get(timeout=600) for _ in procs]
    elapsed = time.perf_counter() - began
    for proc in procs:
        proc.join()
        if proc.exitcode != 0:
            raise SystemExit(f"a client process failed (exit code {proc.exitcode})")
    return len(finished) * ops / elapsed


def run_stats(client: Client, ssdb: str, model: str) -> tuple[int, int, int]:
    """``(runs, samples, µs in the backend)`` so far: the database's AI.INFO of ``model``."""
    info = client.get_ai_info([ssdb], model)[0]
    return int(info["calls"]), int(info["samples"]), int(info["duration"])


def batch_histogram(before: tuple[int, int, int], after: tuple[int, int, int]) -> str:
    calls, samples, busy_us = (b - a for a, b in zip(before, after, strict=True))
    return (f"{calls} jobs of {samples / max(1, calls):.1f} samples on average; "
            f"{busy_us / max(1, calls) / 1e3:.2f} ms per job (AI.INFO duration)")


def measure(hidden: int, scale: float, batches: int) -> None:
    """Both measurements for the CNN with a dense layer ``hidden`` wide; prints them."""
    blob = onnx_cnn(hidden=hidden)
    sock_dir = tempfile.mkdtemp(prefix="ssc-bench-", dir="/tmp")
    socket_path = os.path.join(sock_dir, "db.sock")
    workers: list[subprocess.Popen[bytes]] = []
    rates: dict[str, float] = {}
    histograms: dict[str, str] = {}
    try:
        with LocalDatabase(unix_socket=socket_path) as db:
            workers.append(start_worker(db.ssdb))
            client = connect(db.ssdb, cluster=False)
            client.set_model("cnn", blob, "ONNX")
            client.set_model("cnn_batched", blob, "ONNX", batch_size=BATCH)
            client.set_model("cnn_waiting", blob, "ONNX", batch_size=BATCH,
                             min_batch_size=BATCH, min_batch_timeout=5)
            wait_for_worker(client, "cnn")
            local_s, remote_s = latency(db.ssdb, blob, batches, max(50, int(1000 * scale)))
            ops = max(20, int(400 * scale))
            for model in ("cnn", "cnn_batched", "cnn_waiting"):
                before = run_stats(client, db.ssdb, model)
                rates[model] = throughput(db.ssdb, model, ops)
                histograms[model] = batch_histogram(before, run_stats(client, db.ssdb, model))
            client.close()
    finally:
        stop_workers(workers)
        shutil.rmtree(sock_dir, ignore_errors=True)

    ratio = remote_s / local_s
    params = (IMAGE[1] - 2) * (IMAGE[2] - 2) * 8 * hidden + hidden * 10
    print(f"\nONNX CNN, dense width {hidden} (~{params / 1e6:.1f} M weights), input "
          f"(1, {', '.join(map(str, IMAGE))}) float32; {os.cpu_count()} CPUs")
    print(f"latency   in-process {local_s * 1e3:.3f} ms   put+run_model+get over UDS "
          f"{remote_s * 1e3:.3f} ms   ratio {ratio:.2f} (target <= 2) "
          f"{'ok' if ratio <= 2 else 'ABOVE'}")
    base = rates["cnn"]
    print(f"throughput, {CLIENTS} client processes looping put/run/get:")
    for model, label in (("cnn", "unbatched"), ("cnn_batched", f"batch_size={BATCH}"),
                         ("cnn_waiting", f"batch_size={BATCH}, min_batch_size={BATCH}, 5 ms")):
        gain = rates[model] / base
        verdict = "" if model == "cnn" else (
            f"  x{gain:.2f} (target >= 3) {'ok' if gain >= 3 else 'BELOW'}"
        )
        print(f"  {label:<38}{rates[model]:>7.0f} req/s{verdict}")
        print(f"  {'':<38}{histograms[model]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer operations")
    parser.add_argument("--hidden", default="512,2048",
                        help="widths of the dense layer to measure (comma-separated)")
    parser.add_argument("--batches", type=int, default=5)
    args = parser.parse_args()
    for hidden in [int(h) for h in args.hidden.split(",")]:
        measure(hidden, 0.2 if args.quick else 1.0, args.batches)


if __name__ == "__main__":
    main()
