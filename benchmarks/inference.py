"""Model inference through the database (the module + the inference worker) against
onnxruntime in-process, and batching; the real SmartRedis client over a Unix socket.

1. Latency: one ``put_tensor`` + ``run_model`` + ``get_tensor`` round trip of
   ``examples/ml_inference/cnn.onnx`` (a 22 kB CNN) against ``InferenceSession.run`` on
   the same input in this process (target: <= 3x; the old request-list path was 7.9x),
   and the same for ``onnx_cnn(hidden=512)`` (~2.8 M weights), the old benchmark's model.
2. Throughput: 8 SmartRedis client processes, each looping put/run/get on one image,
   against a heavier CNN (default ``onnx_cnn(hidden=8192)``: ~44 M weights, ~10 ms per
   image on a 2-CPU VM, so the model, not the 8 clients' own work, bounds the unbatched
   rate and batching has work to share) stored unbatched, with ``BATCHSIZE 8``, and with
   ``BATCHSIZE 8 MINBATCHSIZE 8 MINBATCHTIMEOUT 5`` (target: batched >= 3x unbatched).

Every ratio is measured in the same run, alternating the two sides. On a 2-CPU machine
the 8 client processes, the server and the worker share the CPUs: measure honestly.

``--baseline-worker DIR`` also measures the latency with the inference worker of another
sscontainer source tree (e.g. ``git archive <commit> sscontainer | tar -x -C DIR``), in
turns with this one's, against the same module: a before/after of the worker in one run.
``--floor`` adds a worker that answers every job at once with a fixed output, without
running anything: what the put/run/get path costs whatever the worker does.

    python benchmarks/inference.py [--quick] [--hidden 8192] [--ops N] [--throughput-only]
        [--latency-only] [--baseline-worker DIR] [--floor] [--heavy HIDDEN]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import shutil
import statistics
import subprocess
import sys
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


def latency(ssdb: str, blob: bytes, batches: int, ops: int, check: bool = True
            ) -> tuple[float, float]:
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
    if check and not np.allclose(client.get_tensor("y"), expected, rtol=1e-4, atol=1e-5):
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


# A worker that answers each job with one FLOAT (1, 10) output and runs nothing: the floor.
NO_OP_WORKER = r"""
import socket, sys
from hiredis import Reader
def cmd(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%b\r\n" % (len(a), a))
    return b"".join(out)
sock = socket.socket(socket.AF_UNIX)
sock.connect(sys.argv[1])
reader, buf, reports, zeros = Reader(), bytearray(1 << 16), [], bytes(40)
while True:
    sock.sendall(b"".join(reports) + cmd("SSC.JOBTAKE", "CPU", 64, 1000))
    replies = []
    while len(replies) < len(reports) + 1:
        reply = reader.gets()
        if reply is False:
            count = sock.recv_into(buf)
            if not count:
                sys.exit(0)
            reader.feed(buf, 0, count)
        else:
            replies.append(reply)
    reports = [cmd("SSC.JOBDONE", job[0], 1, 1, 1, "FLOAT", 2, 1, 10, zeros) for job in replies[-1]]
"""


def worker_process(ssdb: str, source: str | None) -> Any:
    """sscontainer's worker (``source``: from that source tree), or the no-op one ("floor")."""
    if source == "floor":
        return subprocess.Popen([sys.executable, "-c", NO_OP_WORKER, ssdb[len("unix://"):]])
    if source is None:
        return start_worker(ssdb)
    env = {**os.environ, "PYTHONPATH": source, "CUDA_VISIBLE_DEVICES": ""}
    return subprocess.Popen([sys.executable, "-m", "sscontainer.ml.worker", "--address", ssdb],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def serve(run: Any, worker: str | None = None) -> Any:
    """Call ``run(ssdb, raw connection)`` with a UDS database and one worker beside it."""
    import redis

    sock_dir = tempfile.mkdtemp(prefix="ssc-bench-", dir="/tmp")
    workers = []
    try:
        with LocalDatabase(unix_socket=os.path.join(sock_dir, "db.sock")) as db:
            workers.append(worker_process(db.ssdb, worker))
            conn = redis.Redis(unix_socket_path=db.addresses[0].unix_socket, protocol=2)
            try:
                return run(db.ssdb, conn)
            finally:
                conn.close()
    finally:
        stop_workers(workers)
        shutil.rmtree(sock_dir, ignore_errors=True)


def measure_latency(
    name: str, blob: bytes, scale: float, batches: int, others: dict[str, str | None]
) -> None:
    """This worker, and each of ``others`` (label -> source tree or "floor"), in turns."""
    def runner(check: bool) -> Any:
        def run(ssdb: str, conn: Any) -> tuple[float, float]:
            conn.execute_command("AI.MODELSTORE", "cnn", "ONNX", "CPU", "BLOB", blob)
            return latency(ssdb, blob, batches, max(50, int(1000 * scale)), check)
        return run

    workers: dict[str, str | None] = {"this worker": None, **others}
    rounds = 3 if others else 1
    results: dict[str, list[tuple[float, float]]] = {label: [] for label in workers}
    for _ in range(rounds):  # in turns: drift on a busy host hits every worker alike
        for label, source in workers.items():
            results[label].append(serve(runner(source != "floor"), source))
    print(f"\nlatency, {name} ({len(blob) / 1e3:.0f} kB), input (1, "
          f"{', '.join(map(str, IMAGE))}) float32; {os.cpu_count()} CPUs")
    for label, runs in results.items():
        local_s = statistics.median(r[0] for r in runs)
        remote_s = statistics.median(r[1] for r in runs)
        ratio = remote_s / local_s
        verdict = f"(target <= 3) {'ok' if ratio <= 3 else 'ABOVE'}" if label == "this worker" \
            else ""
        print(f"  {label:<16} onnxruntime in-process {local_s * 1e3:.3f} ms   SmartRedis "
              f"put+run_model+get over UDS {remote_s * 1e3:.3f} ms   ratio {ratio:.2f} {verdict}")


def measure_throughput(hidden: int, ops: int) -> None:
    blob = onnx_cnn(hidden=hidden)
    models = {"cnn": (), "cnn_batched": ("BATCHSIZE", BATCH),
              "cnn_waiting": ("BATCHSIZE", BATCH, "MINBATCHSIZE", BATCH, "MINBATCHTIMEOUT", 5)}

    def run(ssdb: str, conn: Any) -> dict[str, tuple[float, float]]:
        out = {}
        for model, settings in models.items():
            conn.execute_command("AI.MODELSTORE", model, "ONNX", "CPU", *settings, "BLOB", blob)
        for model in models:
            rate = throughput(ssdb, model, ops)
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
    parser.add_argument("--hidden", type=int, default=8192,
                        help="width of the throughput model's dense layer")
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--ops", type=int, default=0,
                        help="requests per client process in the throughput runs")
    parser.add_argument("--throughput-only", action="store_true")
    parser.add_argument("--latency-only", action="store_true")
    parser.add_argument("--baseline-worker", metavar="DIR",
                        help="also the worker of this sscontainer source tree, in turns")
    parser.add_argument("--floor", action="store_true",
                        help="also a worker that runs nothing (the path's own cost)")
    parser.add_argument("--heavy", type=int, default=0, metavar="HIDDEN",
                        help="also the latency of onnx_cnn(hidden=HIDDEN)")
    args = parser.parse_args()
    scale = 0.2 if args.quick else 1.0
    others: dict[str, str | None] = {}
    if args.baseline_worker:
        others["baseline worker"] = os.path.abspath(args.baseline_worker)
    if args.floor:
        others["no-op worker"] = "floor"
    if not args.throughput_only:
        measure_latency(CNN.name, CNN.read_bytes(), scale, args.batches, others)
        # the model the old request-list path's 7.9x was measured with (its default)
        measure_latency("onnx_cnn(hidden=512)", onnx_cnn(hidden=512), scale, args.batches, others)
        if args.heavy:
            measure_latency(f"onnx_cnn(hidden={args.heavy})", onnx_cnn(hidden=args.heavy),
                            scale, args.batches, others)
    if not args.latency_only:
        measure_throughput(args.hidden, args.ops or max(20, int(300 * scale)))


if __name__ == "__main__":
    main()
