"""Model inference through the database (the module + the inference worker) against
onnxruntime in-process, and batching; the real SmartRedis client over a Unix socket.

1. Latency: one ``put_tensor`` + ``run_model`` + ``get_tensor`` round trip of
   ``examples/ml_inference/cnn.onnx`` (a 22 kB CNN) against ``InferenceSession.run`` on
   the same input in this process (target: <= 3x; the old request-list path was 7.9x),
   and the same for ``onnx_cnn(hidden=512)`` (~2.8 M weights), the old benchmark's model.
2. Throughput: 8 SmartRedis client processes, each looping put/run/get on one image,
   against a heavier CNN (``onnx_cnn(hidden=2048)``: ~11 M weights, ~1-2 ms per image,
   so batching has work to share) stored unbatched, with ``BATCHSIZE 8``, and with
   ``BATCHSIZE 8 MINBATCHSIZE 8 MINBATCHTIMEOUT 5`` (target: batched >= 3x unbatched).

Every ratio is measured in the same run, alternating the two sides. On a 2-CPU machine
the 8 client processes, the server and the worker share the CPUs: measure honestly.

    python benchmarks/inference.py [--quick] [--hidden 2048]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from sscontainer.db.local import LocalDatabase
from sscontainer.ml.processes import start_worker, stop_workers
from sscontainer.ml.sample_models import IMAGE, onnx_cnn

CLIENTS = 8
BATCH = 8
CNN = Path(__file__).resolve().parents[1] / "examples" / "ml_inference" / "cnn.onnx"


def smartredis_client(ssdb: str) -> Any:
    os.environ["SR_LOG_LEVEL"] = "QUIET"
    os.environ["SR_SOCKET_TIMEOUT"] = "60000"  # no re-sends of slow first runs
    from smartredis import Client

    return Client(False, ssdb)


def session(blob: bytes) -> Any:
    import onnxruntime

    return onnxruntime.InferenceSession(blob, providers=["CPUExecutionProvider"])


def latency(ssdb: str, blob: bytes, batches: int, ops: int) -> tuple[float, float]:
    """Median seconds per call: (onnxruntime in-process, round trip through the database)."""
    client = smartredis_client(ssdb)
    local_session = session(blob)
    x = np.random.default_rng(1).random((1, *IMAGE), dtype=np.float32)

    def local() -> None:
        local_session.run(None, {"x": x})

    def remote() -> None:
        client.put_tensor("x", x)
        client.run_model("cnn", "x", "y")
        client.get_tensor("y")

    remote()  # loads the model in the worker
    expected = local_session.run(None, {"x": x})[0]
    if not np.allclose(client.get_tensor("y"), expected, rtol=1e-4, atol=1e-5):
        raise SystemExit("the worker's result differs from onnxruntime in-process")
    local_times, remote_times = [], []
    for _ in range(batches):  # alternate so drift on a busy host hits both alike
        for step, times in ((local, local_times), (remote, remote_times)):
            start = time.perf_counter()
            for _ in range(ops):
                step()
            times.append((time.perf_counter() - start) / ops)
    return statistics.median(local_times), statistics.median(remote_times)


def _client_loop(ssdb: str, model: str, index: int, ops: int, start: Any, done: Any) -> None:
    client = smartredis_client(ssdb)
    x = np.random.default_rng(index).random((1, *IMAGE), dtype=np.float32)
    name_in, name_out = f"in{index}", f"out{index}"
    client.put_tensor(name_in, x)
    client.run_model(model, name_in, name_out)
    expected = client.get_tensor(name_out).copy()
    start.wait()
    for _ in range(ops):
        client.put_tensor(name_in, x)
        client.run_model(model, name_in, name_out)
        if not np.allclose(client.get_tensor(name_out), expected, rtol=1e-4, atol=1e-5):
            raise SystemExit(f"client {index} got another client's result")
    done.put(index)


def throughput(ssdb: str, model: str, ops: int) -> float:
    """Requests per second of ``CLIENTS`` processes looping put/run/get on ``model``."""
    ctx = mp.get_context("spawn")  # SmartRedis' C++ client must not be forked
    start, done = ctx.Barrier(CLIENTS + 1), ctx.Queue()
    procs = [ctx.Process(target=_client_loop, args=(ssdb, model, i, ops, start, done))
             for i in range(CLIENTS)]
    for proc in procs:
        proc.start()
    start.wait(timeout=600)
    began = time.perf_counter()
    finished = [done.get(timeout=600) for _ in procs]
    elapsed = time.perf_counter() - began
    for proc in procs:
        proc.join()
        if proc.exitcode != 0:
            raise SystemExit(f"a client process failed (exit code {proc.exitcode})")
    return len(finished) * ops / elapsed


def backend_ms_per_call(conn: Any, model: str) -> float:
    info = conn.execute_command("AI.INFO", model)
    fields = dict(zip(info[::2], info[1::2], strict=True))
    conn.execute_command("AI.INFO", model, "RESETSTAT")
    return int(fields[b"duration"]) / max(1, int(fields[b"calls"])) / 1e3


def serve(run: Any) -> Any:
    """Call ``run(ssdb, raw connection)`` with a UDS database and one worker beside it."""
    import redis

    sock_dir = tempfile.mkdtemp(prefix="ssc-bench-", dir="/tmp")
    workers = []
    try:
        with LocalDatabase(unix_socket=os.path.join(sock_dir, "db.sock")) as db:
            workers.append(start_worker(db.ssdb))
            conn = redis.Redis(unix_socket_path=db.addresses[0].unix_socket, protocol=2)
            try:
                return run(db.ssdb, conn)
            finally:
                conn.close()
    finally:
        stop_workers(workers)
        shutil.rmtree(sock_dir, ignore_errors=True)


def measure_latency(name: str, blob: bytes, scale: float, batches: int) -> None:
    def run(ssdb: str, conn: Any) -> tuple[float, float]:
        conn.execute_command("AI.MODELSTORE", "cnn", "ONNX", "CPU", "BLOB", blob)
        return latency(ssdb, blob, batches, max(50, int(1000 * scale)))

    local_s, remote_s = serve(run)
    ratio = remote_s / local_s
    print(f"\nlatency, {name} ({len(blob) / 1e3:.0f} kB), input (1, "
          f"{', '.join(map(str, IMAGE))}) float32; {os.cpu_count()} CPUs")
    print(f"  onnxruntime in-process {local_s * 1e3:.3f} ms   SmartRedis put+run_model+get over "
          f"UDS {remote_s * 1e3:.3f} ms   ratio {ratio:.2f} (target <= 3) "
          f"{'ok' if ratio <= 3 else 'ABOVE'}")


def measure_throughput(hidden: int, scale: float) -> None:
    blob = onnx_cnn(hidden=hidden)
    models = {"cnn": (), "cnn_batched": ("BATCHSIZE", BATCH),
              "cnn_waiting": ("BATCHSIZE", BATCH, "MINBATCHSIZE", BATCH, "MINBATCHTIMEOUT", 5)}

    def run(ssdb: str, conn: Any) -> dict[str, tuple[float, float]]:
        out = {}
        for model, settings in models.items():
            conn.execute_command("AI.MODELSTORE", model, "ONNX", "CPU", *settings, "BLOB", blob)
        for model in models:
            rate = throughput(ssdb, model, max(20, int(300 * scale)))
            out[model] = (rate, backend_ms_per_call(conn, model))
        return out

    results = serve(run)
    params = (IMAGE[1] - 2) * (IMAGE[2] - 2) * 8 * hidden + hidden * 10
    print(f"\nthroughput, {CLIENTS} SmartRedis client processes looping put/run/get, "
          f"onnx_cnn(hidden={hidden}) (~{params / 1e6:.1f} M weights)")
    base = results["cnn"][0]
    labels = {"cnn": "unbatched", "cnn_batched": f"BATCHSIZE {BATCH}",
              "cnn_waiting": f"BATCHSIZE {BATCH} MINBATCHSIZE {BATCH} MINBATCHTIMEOUT 5"}
    for model, (rate, backend_ms) in results.items():
        gain = rate / base
        verdict = "" if model == "cnn" else \
            f"  x{gain:.2f} (target >= 3) {'ok' if gain >= 3 else 'BELOW'}"
        print(f"  {labels[model]:<44}{rate:>7.0f} req/s{verdict}")
        print(f"  {'':<44}{backend_ms:.2f} ms in the backend per job (a batch's run, shared)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer operations")
    parser.add_argument("--hidden", type=int, default=2048,
                        help="width of the throughput model's dense layer")
    parser.add_argument("--batches", type=int, default=5)
    args = parser.parse_args()
    scale = 0.2 if args.quick else 1.0
    measure_latency(CNN.name, CNN.read_bytes(), scale, args.batches)
    # the model the old request-list path's 7.9x was measured with (its default)
    measure_latency("onnx_cnn(hidden=512)", onnx_cnn(hidden=512), scale, args.batches)
    measure_throughput(args.hidden, scale)


if __name__ == "__main__":
    main()
