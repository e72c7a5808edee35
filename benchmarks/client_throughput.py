"""sscontainer.Client against the real SmartRedis 0.6.1 client, same server, same run.

1. ``put_tensor`` + ``get_tensor`` round trips of a 16-element and a 1 MiB float32 tensor
   through each client, in alternating batches against one local database (the
   RedisAI-compatible module loaded; TCP loopback, and a Unix socket with ``--uds``).
   Prints the median round trips per second and the ratio ours/SmartRedis (targets:
   >= 1.0 for 1 MiB, >= 0.8 for 16 floats).
2. 32 processes x 1,000 tensors through sscontainer.Client: each process writes its
   tensors and the SHA-256 of each; the parent reads every tensor back and compares
   checksums. Prints the aggregate rate and the number of equal checksums.

    python benchmarks/client_throughput.py [--batches 7] [--quick] [--uds]

SmartRedis 0.6.1 needs numpy < 2 (with numpy 2 its arrays come back as zeros).
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import sscontainer.client as ours
from sscontainer.db.local import LocalDatabase

SIZES = {"16 x f32": 16, "1 MiB f32": 262_144}
TARGETS = {"16 x f32": 0.8, "1 MiB f32": 1.0}
WORKERS = 32
TENSORS = 1000
DTYPES = ["float64", "float32", "int64", "int32", "int16", "int8", "uint16", "uint8"]


def rate(step: Callable[[], None], ops: int) -> float:
    start = time.perf_counter()
    for _ in range(ops):
        step()
    return ops / (time.perf_counter() - start)


def compare(smartredis: Any, elements: int, batches: int, ops: int) -> tuple[float, float]:
    """Median round trips per second: (SmartRedis, sscontainer.Client)."""
    data = np.random.default_rng(elements).random(elements, dtype=np.float32)
    real, mine = smartredis.Client(None, "smartredis"), ours.Client(None, "sscontainer")

    def real_step() -> None:
        real.put_tensor("real", data)
        real.get_tensor("real")

    def our_step() -> None:
        mine.put_tensor("ours", data)
        mine.get_tensor("ours")

    real_step()
    our_step()
    if not (np.array_equal(real.get_tensor("ours"), data)
            and np.array_equal(mine.get_tensor("real"), data)):
        raise SystemExit("the clients do not read each other's tensors back intact")
    real_rates, our_rates = [], []
    for _ in range(batches):  # alternate, so drift on a busy host hits both alike
        real_rates.append(rate(real_step, ops))
        our_rates.append(rate(our_step, ops))
    mine.close()
    return statistics.median(real_rates), statistics.median(our_rates)


def expected(worker: int, index: int) -> np.ndarray:
    rng = np.random.default_rng(worker * 100_000 + index)
    return (rng.random((index % 5 + 1, 16)) * 100).astype(DTYPES[index % len(DTYPES)])


def digest(array: np.ndarray) -> str:
    return hashlib.sha256(array.dtype.str.encode() + str(array.shape).encode()
                          + array.tobytes()).hexdigest()


def writer(worker: int, tensors: int, out: Any) -> None:
    client = ours.Client(None, f"writer-{worker}")
    sums = {}
    for index in range(tensors):
        data = expected(worker, index)
        client.put_tensor(f"w{worker}.t{index}", data)
        sums[f"w{worker}.t{index}"] = digest(data)
    client.close()
    out.put(sums)


def many_processes(tensors: int) -> tuple[float, int, int]:
    """(tensors per second over all writers, checksums equal, tensors written)."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    procs = [context.Process(target=writer, args=(w, tensors, queue)) for w in range(WORKERS)]
    start = time.perf_counter()
    for proc in procs:
        proc.start()
    written: dict[str, str] = {}
    for _ in procs:
        written.update(queue.get(timeout=600))
    elapsed = time.perf_counter() - start
    for proc in procs:
        proc.join(timeout=60)
        if proc.exitcode != 0:
            raise SystemExit(f"a writer failed (exit code {proc.exitcode})")
    reader = ours.Client(None, "reader")
    equal = sum(digest(reader.get_tensor(key)) == value for key, value in written.items())
    reader.close()
    return len(written) / elapsed, equal, len(written)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="fewer operations per batch")
    parser.add_argument("--uds", action="store_true", help="a Unix socket instead of TCP")
    args = parser.parse_args()
    try:
        import smartredis
    except ImportError:
        raise SystemExit("pip install smartredis==0.6.1 (the baseline)") from None
    if int(np.__version__.split(".")[0]) >= 2:
        raise SystemExit(f"SmartRedis 0.6.1 needs numpy < 2 (this is numpy {np.__version__})")
    os.environ["SR_LOG_LEVEL"] = "quiet"
    os.environ["SR_SOCKET_TIMEOUT"] = "30000"  # no re-sent commands in the baseline
    sock_dir = tempfile.mkdtemp(prefix="ssc-bench-", dir="/tmp")
    options = {"unix_socket": os.path.join(sock_dir, "db.sock")} if args.uds else {}
    scale = 10 if args.quick else 1
    try:
        with LocalDatabase(**options) as db:  # type: ignore[arg-type]
            os.environ.update(db.env)
            print(f"database: {db.ssdb} (cpus: {os.cpu_count()}); "
                  f"python {sys.version.split()[0]}, numpy {np.__version__}")
            for label, elements in SIZES.items():
                ops = (3000 if elements < 1000 else 200) // scale
                real, mine = compare(smartredis, elements, args.batches, ops)
                ratio = mine / real
                verdict = "meets" if ratio >= TARGETS[label] else "BELOW"
                print(f"{label:>10}: SmartRedis {real:8.0f}/s  sscontainer {mine:8.0f}/s  "
                      f"ratio {ratio:.2f} ({verdict} the {TARGETS[label]:.1f}x target)")
            per_second, equal, total = many_processes(TENSORS // scale)
            print(f"{WORKERS} processes x {TENSORS // scale} tensors: {per_second:.0f} puts/s "
                  f"overall; checksums equal: {equal}/{total}")
            if equal != total:
                raise SystemExit("some tensors came back different")
    finally:
        shutil.rmtree(sock_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
