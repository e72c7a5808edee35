"""Tensor put+get through ``sscontainer.client.Client`` against raw redis-py, UDS and TCP.

Starts one server (sscontainer.db.LocalDatabase) listening on a Unix socket and
on a loopback TCP port, then times put+get round trips of a 16-element and a
1 MiB float32 tensor: with the Client (``put_tensor``/``get_tensor``) and with
raw redis-py ``SET``/``GET`` of the same bytes on the same server, in the same
run, in alternating batches. Prints the median time per round trip and the
ratio raw/client (1.0 = as fast as raw redis-py; targets: >= 0.8 for 1 MiB,
>= 0.7 for the small tensor), and UDS vs TCP.

    python benchmarks/tensor_transfer.py [--batches 7] [--quick]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable

import numpy as np
import redis

from sscontainer.client import Client
from sscontainer.db.address import ServerAddress, find_free_port
from sscontainer.db.local import LocalDatabase

SIZES = {"16 x f32": 16, "1 MiB f32": 262_144}
TARGETS = {"16 x f32": 0.7, "1 MiB f32": 0.8}


def raw_connection(address: ServerAddress) -> redis.Redis:
    if address.unix_socket is not None:
        return redis.Redis(unix_socket_path=address.unix_socket, socket_timeout=10)
    return redis.Redis(host=address.host, port=address.port, socket_timeout=10)


def time_batch(step: Callable[[], None], ops: int) -> float:
    """Seconds per call of ``step`` over ``ops`` calls."""
    start = time.perf_counter()
    for _ in range(ops):
        step()
    return (time.perf_counter() - start) / ops


def measure(address: ServerAddress, elements: int, batches: int, ops: int) -> tuple[float, float]:
    """Median seconds per put+get round trip: (raw redis-py, Client)."""
    data = np.random.default_rng(0).random(elements, dtype=np.float32)
    payload = data.tobytes()
    raw = raw_connection(address)
    client = Client(False, str(address), "benchmark")

    def raw_step() -> None:
        raw.set("raw", payload)
        raw.get("raw")

    def client_step() -> None:
        client.put_tensor("tensor", data)
        client.get_tensor("tensor")

    client_step()  # both connections open, both keys present, before timing
    raw_step()
    if not np.array_equal(client.get_tensor("tensor"), data) or raw.get("raw") != payload:
        raise SystemExit("round trip returned different data")
    raw_times, client_times = [], []
    for _ in range(batches):  # alternate so drift on a busy host hits both alike
        raw_times.append(time_batch(raw_step, ops))
        client_times.append(time_batch(client_step, ops))
    raw.close()
    client.close()
    return statistics.median(raw_times), statistics.median(client_times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="fewer operations per batch")
    args = parser.parse_args()
    scale = 0.2 if args.quick else 1.0
    ops = {"16 x f32": max(50, int(3000 * scale)), "1 MiB f32": max(10, int(150 * scale))}

    sock_dir = tempfile.mkdtemp(prefix="ssc-bench-", dir="/tmp")
    socket_path = os.path.join(sock_dir, "db.sock")
    port = find_free_port()
    transports = {
        "uds": ServerAddress(unix_socket=socket_path),
        "tcp": ServerAddress(host="127.0.0.1", port=port),
    }
    results: dict[tuple[str, str], tuple[float, float]] = {}
    try:
        with LocalDatabase(port=port, unix_socket=socket_path):
            for transport, address in transports.items():
                for label, elements in SIZES.items():
                    results[transport, label] = measure(
                        address, elements, args.batches, ops[label]
                    )
    finally:
        shutil.rmtree(sock_dir, ignore_errors=True)

    print(f"{'transport':<10}{'tensor':<11}{'raw put+get':>13}{'client put+get':>16}"
          f"{'raw/client':>12}{'target':>9}")
    for (transport, label), (raw_s, client_s) in results.items():
        ratio = raw_s / client_s
        verdict = "ok" if ratio >= TARGETS[label] else "BELOW"
        print(f"{transport:<10}{label:<11}{raw_s * 1e6:>10.1f} us{client_s * 1e6:>13.1f} us"
              f"{ratio:>12.2f}{'>= ' + str(TARGETS[label]):>9} {verdict}")
    print()
    print(f"{'tensor':<11}{'client tcp':>13}{'client uds':>13}{'tcp/uds':>10}  (> 1: UDS faster)")
    for label in SIZES:
        tcp = results["tcp", label][1]
        uds = results["uds", label][1]
        print(f"{label:<11}{tcp * 1e6:>10.1f} us{uds * 1e6:>10.1f} us{tcp / uds:>10.2f}")


if __name__ == "__main__":
    main()
