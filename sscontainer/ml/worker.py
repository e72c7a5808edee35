"""The inference worker: runs models and scripts for the database module, beside one shard.

    python -m sscontainer.ml.worker --address ADDR [--device CPU] [--password-env VAR]

It takes jobs from its shard's module with ``SSC.JOBTAKE`` (their input tensors in
the same reply; blocking up to a second when idle), fetches each new model/script
version once (``SSC.ASSETGET``), groups jobs into batches (:mod:`batching`), runs
them with the backends and reports each job (``SSC.JOBDONE`` / ``SSC.JOBFAIL``); the
reports of one round travel with the next take. A failure is reported for its job
only; the worker keeps serving. The protocol is ``sscontainer/db/redisai/PROTOCOL.md``.
It exits on SIGTERM/SIGINT, or when its server stays unreachable for
``--reconnect-timeout`` seconds (the module fails the jobs it held).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from types import FrameType
from typing import Any

from ..db.address import ServerAddress, parse_address
from ..errors import BackendError, SSContainerError
from .backends import Threads
from .batching import Batcher, concat_inputs, split_outputs
from .cache import RunnerCache
from .connect import connect_shard
from .devices import worker_device
from .jobs import (
    ASSET,
    Array,
    Command,
    Job,
    OutputError,
    batch_dim,
    batchable,
    done_command,
    fail_command,
    parse_asset,
    parse_job,
    take_command,
)
from .link import LinkLost

_UNREACHABLE = (LinkLost, OSError)
IDLE_BLOCK_MS = 1000
MAX_TAKE = 64  # jobs taken per round trip


def _say(device: str, message: str) -> None:
    print(f"[sscontainer.ml.worker {device} {os.getpid()}] {message}", file=sys.stderr, flush=True)


class Worker:
    """Serves one device's queue of the module through ``link``."""

    def __init__(self, link: Any, device: str, threads: Threads = Threads()) -> None:
        self.link = link
        self.device = worker_device(device)
        self.cache = RunnerCache(threads)
        self.batcher = Batcher()
        self.outbox: list[Command] = []  # reports, sent with the next take

    # --- taking jobs --------------------------------------------------------------------
    def take(self, block_ms: int) -> list[Job]:
        """Send the waiting reports and take what is queued (blocking up to ``block_ms``)."""
        commands, self.outbox = self.outbox, []
        *reports, taken = self.link.execute([*commands, take_command(self.device, MAX_TAKE,
                                                                     block_ms)])
        self._log_refusals(commands, reports)
        if isinstance(taken, Exception):
            raise taken
        jobs = [parse_job(reply) for reply in taken]
        self._fetch_assets(jobs)
        return jobs

    def _fetch_assets(self, jobs: Sequence[Job]) -> None:
        """Load every model/script version not loaded yet: one round trip for all of them."""
        wanted: dict[tuple[bytes, str], Job] = {}
        for job in jobs:
            if not self.cache.has(*job.asset):
                wanted.setdefault(job.asset, job)
        if not wanted:
            return
        replies = self.link.execute([(ASSET, job.id) for job in wanted.values()])
        for (key, version), reply in zip(wanted, replies, strict=True):
            if isinstance(reply, Exception):
                self.cache.fail(key, version, f"could not fetch {key!r}: {reply}")
            else:
                self.cache.load(key, parse_asset(reply))

    # --- running ------------------------------------------------------------------------
    def _call(self, job: Job, inputs: list[Array]) -> list[Array]:
        runner: Any = self.cache.get(*job.asset)
        if job.is_script:  # never batched: its inputs are the job's own
            return list(runner.call(job.fn, job.arguments()))
        return list(runner.run(inputs))

    def _failure(self, job: Job, exc: Exception) -> str:
        if isinstance(exc, BackendError):
            return str(exc)
        what = f"script '{job.name}' function {job.fn!r}" if job.is_script else \
            f"model '{job.name}'"
        return f"{what} failed in the {job.backend} backend: {exc}"

    def _report(self, job: Job, outputs: Sequence[Array], duration_us: int) -> None:
        try:
            # AI.INFO's samples grow by the first output's batch dimension (RedisAI)
            self.outbox.append(done_command(job.id, duration_us, batch_dim(outputs), outputs))
        except OutputError as exc:
            what = "script" if job.is_script else "model"
            self.outbox.append(fail_command(job.id, f"{what} '{job.name}' returned {exc}"))

    def run_one(self, job: Job) -> None:
        started = time.perf_counter()
        try:
            outputs = self._call(job, job.inputs)
        except Exception as exc:  # whatever the framework raises goes back to the caller
            self.outbox.append(fail_command(job.id, self._failure(job, exc)))
            return
        self._report(job, outputs, int((time.perf_counter() - started) * 1e6))

    def run_batch(self, batch: list[Job]) -> None:
        """Run one batch (or one job) and queue the reports."""
        if len(batch) == 1:
            self.run_one(batch[0])
            return
        started = time.perf_counter()
        try:
            per_job = split_outputs(self._call(batch[0], concat_inputs(batch)), batch)
        except Exception:  # run them one by one: only the faulty job gets the error
            for job in batch:
                self.run_one(job)
            return
        duration_us = int((time.perf_counter() - started) * 1e6)
        for job, outputs in zip(batch, per_job, strict=True):
            self._report(job, outputs, duration_us)

    def _log_refusals(self, commands: Sequence[Command], replies: Sequence[Any]) -> None:
        """A report the server refused (a job it no longer holds) is said, not raised."""
        for command, reply in zip(commands, replies, strict=True):
            if isinstance(reply, Exception):
                _say(self.device, f"the server refused {command[0]} for job {command[1]}: {reply}")

    def flush(self) -> None:
        commands, self.outbox = self.outbox, []
        if commands:
            self._log_refusals(commands, self.link.execute(commands))

    # --- the loop -----------------------------------------------------------------------
    def step(self, idle_ms: int = IDLE_BLOCK_MS) -> None:
        """Take what arrived (waiting at most ``idle_ms``, less when a batch waits), run it."""
        wait = self.batcher.wait_time(time.monotonic()) if self.batcher else None
        block_ms = idle_ms if wait is None else min(idle_ms, int(wait * 1000) + 1)
        jobs = self.take(block_ms)
        if not self.batcher and not any(batchable(job) for job in jobs):
            ready = [[job] for job in jobs]  # nothing to group: the common case, at once
        else:
            for job in jobs:
                self.batcher.add(job)
            ready = self.batcher.take_ready(time.monotonic())
        for index, batch in enumerate(ready):
            self.run_batch(batch)
            if index < len(ready) - 1:
                self.flush()  # its callers need not wait for the batches after it

    def forget(self) -> None:
        """Drop the connection and what this worker held: the module fails those jobs when
        the connection closes (their callers get an error), so none is reported twice."""
        self.outbox = []
        self.batcher.clear()
        try:
            self.link.close()
        except _UNREACHABLE:
            pass


def serve(address: ServerAddress, password: str | None, device: str, threads: Threads,
          stop: threading.Event, reconnect_timeout: float, startup_timeout: float) -> int:
    worker = Worker(connect_shard(address, password, startup_timeout), device, threads)
    _say(worker.device, f"serving {address}")
    down_since: float | None = None
    while not stop.is_set():
        try:
            if down_since is not None:
                worker.link = connect_shard(address, password, 1.0)
            worker.step()
            down_since = None
        except (*_UNREACHABLE, SSContainerError) as exc:
            worker.forget()
            down_since = down_since or time.monotonic()
            if time.monotonic() - down_since > reconnect_timeout:
                _say(worker.device, f"database unreachable for {reconnect_timeout:g} s ({exc})")
                return 1
            time.sleep(0.2)
        except Exception as exc:  # a bug, or a reply one job broke: keep serving
            worker.forget()
            _say(worker.device, f"error: {type(exc).__name__}: {exc}")
            down_since = time.monotonic()  # reconnect: the module failed what we held
            time.sleep(0.2)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sscontainer.ml.worker",
        description="Run the ML models and scripts of a database's module for its clients.",
    )
    parser.add_argument("--address", required=True, help="host:port or unix:///path of the shard")
    parser.add_argument("--password-env", default="", help="variable holding the password")
    parser.add_argument("--device", default="CPU", help="CPU or GPU:<n> (default CPU)")
    parser.add_argument("--intra-op-threads", type=int, default=0)
    parser.add_argument("--inter-op-threads", type=int, default=0)
    parser.add_argument("--reconnect-timeout", type=float, default=5.0)
    parser.add_argument("--startup-timeout", type=float, default=60.0)
    options = parser.parse_args(argv)
    try:
        device = worker_device(options.device)
        address = parse_address(options.address)
    except SSContainerError as exc:
        parser.error(str(exc))
    password = os.environ.get(options.password_env) if options.password_env else None
    threads = Threads(options.intra_op_threads or None, options.inter_op_threads or None)
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()  # ends after the current round (a blocking take lasts at most a second)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        code = serve(address, password or None, device, threads, stop,
                     options.reconnect_timeout, options.startup_timeout)
    except SSContainerError as exc:
        _say(device, f"error: {exc}")
        return 1
    _say(device, "stopped")
    return code


if __name__ == "__main__":
    sys.exit(main())
