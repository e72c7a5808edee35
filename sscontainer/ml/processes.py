"""The worker's command line, and worker processes started directly (colocated, tests).

Orchestrator shards get their workers as launcher Steps (:mod:`hooks`); a
colocated database, the tests and the benchmarks start them here as child
processes with :func:`start_worker` and end them with :func:`stop_workers`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence

from .devices import worker_device, worker_env

WORKER_MODULE = "sscontainer.ml.worker"
PASSWORD_ENV = "SSDB_PASSWORD"


def worker_argv(
    address: str,
    device: str = "CPU",
    password_env: str | None = None,
    threads: Mapping[str, int] | None = None,
    python: str = sys.executable,
) -> list[str]:
    """``python -m sscontainer.ml.worker --address ... [--password-env ...] --device ...``.

    ``threads`` takes the colocated ``ml_threads`` keys (``intra_op_threads``,
    ``inter_op_threads``; ``threads_per_queue`` has no meaning here: one queue, one thread).
    """
    argv = [python, "-m", WORKER_MODULE, "--address", address, "--device", worker_device(device)]
    if password_env:
        argv += ["--password-env", password_env]
    for key in ("intra_op_threads", "inter_op_threads"):
        if threads and threads.get(key):
            argv += ["--" + key.replace("_", "-"), str(threads[key])]
    return argv


def start_worker(
    address: str,
    device: str = "CPU",
    password: str | None = None,
    threads: Mapping[str, int] | None = None,
    cpus: Iterable[int] | None = None,
    log_path: str | None = None,
) -> subprocess.Popen[bytes]:
    """Start a worker process for the shard at ``address`` (pinned to ``cpus`` if given)."""
    env = {**os.environ, **worker_env(device)}
    if password:
        env[PASSWORD_ENV] = password
    argv = worker_argv(address, device, PASSWORD_ENV if password else None, threads)
    if log_path:
        with open(log_path, "ab") as log:
            proc = _spawn(argv, env, log.fileno())
    else:
        proc = _spawn(argv, env, subprocess.DEVNULL)
    if cpus:
        try:
            os.sched_setaffinity(proc.pid, set(cpus))
        except OSError:
            pass  # it already exited (its log says why) or pinning is not allowed here
    return proc


def _spawn(argv: list[str], env: dict[str, str], log: int) -> subprocess.Popen[bytes]:
    # its own session: a terminal's Ctrl-C goes to the application, whose owner stops us
    return subprocess.Popen(
        argv, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
    )


def stop_workers(procs: Sequence[subprocess.Popen[bytes]], grace: float = 5.0) -> None:
    """SIGTERM every worker, SIGKILL those still running after ``grace`` s; reap them all."""
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
