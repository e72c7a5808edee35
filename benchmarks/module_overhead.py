"""The module's tensor commands against plain strings: AI.TENSORSET + AI.TENSORGET against
SET + GET of the same bytes, on the same server, with the same load generator.

One server (valkey, the module loaded) on a Unix socket. The load generator is one
Python process with hiredis: each round sends ``depth`` pipelined (set, get) pairs in
one write, pre-encoded, and reads every reply, so the server's per-command cost is what
differs between the two sides; then one pair per write (SmartRedis waits for each reply).
Sizes: 16 float32 (64 bytes) and 1 MiB. Rounds of the two sides alternate; the median
pairs/s of each is printed with the ratio module/plain (target >= 0.9), and the
server's own time per call (INFO commandstats). With Debian's ``redis-benchmark``
(redis-tools, found on PATH or under /opt/redis7) the 16-float case is also measured
with it (custom commands).

    python benchmarks/module_overhead.py [--quick] [--seconds 1.0]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import tempfile
import time

import hiredis
import numpy as np

from sscontainer.db.local import LocalDatabase

SIZES = {"16 x float32": 16, "1 MiB float32": 262_144}
# pairs per write: pipelined (the server is the bottleneck) and one at a time (as
# SmartRedis sends most commands: the round trip is the bottleneck)
DEPTHS = {"16 x float32": (64, 1), "1 MiB float32": (4, 1)}
TARGET = 0.9
REDIS_BENCHMARK = ("redis-benchmark", "/opt/redis7/usr/bin/redis-benchmark")


def encode(*args: bytes | str | int) -> bytes:
    return bytes(hiredis.pack_command(tuple(args)))


def pair_commands(kind: str, key: str, blob: bytes, count: int) -> tuple[bytes, list[bytes]]:
    """The (set, get) command bytes and the replies they must give."""
    if kind == "plain":
        return encode("SET", key, blob) + encode("GET", key), [b"OK", blob]
    return (encode("AI.TENSORSET", key, "FLOAT", count, "BLOB", blob)
            + encode("AI.TENSORGET", key, "BLOB"), [b"OK", blob])


class Load:
    """One connection pushing pipelined rounds."""

    def __init__(self, path: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.reader = hiredis.Reader()
        self.buf = bytearray(4 << 20)

    def round(self, payload: bytes, replies: int) -> list[object]:
        self.sock.sendall(payload)
        got: list[object] = []
        view = memoryview(self.buf)
        while len(got) < replies:
            n = self.sock.recv_into(view)
            if n == 0:
                raise ConnectionError("the server closed the connection")
            self.reader.feed(view[:n])
            while True:
                reply = self.reader.gets()
                if reply is False:
                    break
                got.append(reply)
        return got

    def rate(self, pair: bytes, expected: list[bytes], depth: int, seconds: float) -> float:
        """Pairs per second over about ``seconds``; checks the last round's replies."""
        payload = pair * depth
        self.round(payload, 2 * depth)
        done, began = 0, time.perf_counter()
        while True:
            got = self.round(payload, 2 * depth)
            done += depth
            elapsed = time.perf_counter() - began
            if elapsed >= seconds:
                break
        if got[-2:] != expected:
            raise SystemExit(f"unexpected replies: {[str(r)[:40] for r in got[-2:]]}")
        return done / elapsed


def server_usec(load: Load) -> dict[str, float]:
    """The server's own time per call (INFO commandstats): the module's cost without the
    network and the client, which a loaded host blurs in the throughput figures."""
    (text,) = load.round(encode("INFO", "commandstats"), 1)
    assert isinstance(text, bytes)
    usec = {}
    for line in text.decode().splitlines():
        match = re.match(r"cmdstat_([a-z._]+):calls=\d+,usec=\d+,usec_per_call=([0-9.]+)", line)
        if match:
            usec[match.group(1)] = float(match.group(2))
    return usec


def measure(path: str, label: str, count: int, rounds: int, seconds: float) -> None:
    blob = np.random.default_rng(0).random(count, dtype=np.float32).tobytes()
    load = Load(path)
    load.round(encode("CONFIG", "RESETSTAT"), 1)
    for depth in DEPTHS[label]:
        rates: dict[str, list[float]] = {"plain": [], "module": []}
        for _ in range(rounds):  # alternate so drift on a busy host hits both alike
            for kind in ("plain", "module"):
                pair, expected = pair_commands(kind, f"{kind}:{label}", blob, count)
                rates[kind].append(load.rate(pair, expected, depth, seconds))
        plain, module = (statistics.median(rates[k]) for k in ("plain", "module"))
        ratio = module / plain
        how = f"{depth} pairs per write" if depth > 1 else "1 pair per write"
        print(f"  {label:<14} {how:<22} SET+GET {plain:>8.0f} pairs/s   "
              f"AI.TENSORSET+AI.TENSORGET {module:>8.0f} pairs/s   ratio {ratio:.2f} "
              f"(target >= {TARGET}) {'ok' if ratio >= TARGET else 'BELOW'}")
    usec = server_usec(load)
    print(f"  {'':<14} server time per call: SET {usec['set']:.2f} us, GET {usec['get']:.2f} us, "
          f"AI.TENSORSET {usec['ai.tensorset']:.2f} us, AI.TENSORGET {usec['ai.tensorget']:.2f} us")


def redis_benchmark() -> str | None:
    for name in REDIS_BENCHMARK:
        found = shutil.which(name) or (name if os.access(name, os.X_OK) else None)
        if found:
            return found
    return None


def with_redis_benchmark(binary: str, path: str, requests: int) -> None:
    """16 floats through redis-benchmark's custom-command mode (argv cannot hold 1 MiB)."""
    rng = np.random.default_rng(1)
    blob = rng.random(16, dtype=np.float32).tobytes()
    while b"\0" in blob:  # an argv string cannot hold NUL bytes
        blob = rng.random(16, dtype=np.float32).tobytes()
    commands = {
        "SET": ["SET", "rb:plain", blob], "GET": ["GET", "rb:plain"],
        "AI.TENSORSET": ["AI.TENSORSET", "rb:t", "FLOAT", "16", "BLOB", blob],
        "AI.TENSORGET": ["AI.TENSORGET", "rb:t", "BLOB"],
    }
    rates = {}
    for name, args in commands.items():
        argv = [binary, "-s", path, "-n", str(requests), "-c", "8", "-P", "16", "-q", "--csv",
                *[a if isinstance(a, str) else os.fsdecode(a) for a in args]]
        out = subprocess.run(argv, capture_output=True, check=True).stdout.decode(errors="replace")
        rates[name] = float(re.findall(r'"([0-9.]+)"', out.splitlines()[-1])[0])
    plain = 2 / (1 / rates["SET"] + 1 / rates["GET"])
    module = 2 / (1 / rates["AI.TENSORSET"] + 1 / rates["AI.TENSORGET"])
    print(f"  redis-benchmark, 16 x float32, 8 connections, pipeline 16: SET {rates['SET']:.0f}/s"
          f" GET {rates['GET']:.0f}/s  AI.TENSORSET {rates['AI.TENSORSET']:.0f}/s "
          f"AI.TENSORGET {rates['AI.TENSORGET']:.0f}/s  ratio {module / plain:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter rounds")
    parser.add_argument("--seconds", type=float, default=1.0, help="length of one round")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    rounds = 3 if args.quick else args.rounds
    seconds = 0.3 if args.quick else args.seconds
    sock_dir = tempfile.mkdtemp(prefix="ssc-bench-", dir="/tmp")
    try:
        with LocalDatabase(unix_socket=os.path.join(sock_dir, "db.sock")) as db:
            path = db.addresses[0].unix_socket
            assert path is not None
            print(f"module overhead on one server over UDS ({os.cpu_count()} CPUs), one Python "
                  f"hiredis client, pipelined rounds, median of {rounds}:")
            for label, count in SIZES.items():
                measure(path, label, count, rounds, seconds)
            binary = redis_benchmark()
            if binary:
                with_redis_benchmark(binary, path, 50_000 if args.quick else 400_000)
            else:
                print("  (redis-benchmark not found: apt-get install redis-tools to add it)")
    finally:
        shutil.rmtree(sock_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
