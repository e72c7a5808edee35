"""The inference worker: runs stored models and scripts for clients, beside one shard.

    python -m sscontainer.ml.worker --address ADDR [--password-env VAR] [--device CPU]

It pops requests from its queue (see :mod:`protocol`; blocking reads of at most
one second), reads each model's settings and inputs in one pipelined round trip,
groups requests into batches (:mod:`batching`), runs them, writes the outputs and
answers every caller. A failure (missing input, broken model, backend error) is
answered to its caller only; the worker keeps serving. It exits when its database
stays unreachable for ``--reconnect-timeout`` seconds, or on SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

import redis
from redis.cluster import RedisCluster
from redis.exceptions import RedisClusterException

from ..client.tensor_codec import decode, encode
from ..db.address import parse_address
from ..errors import BackendError, SSContainerError
from .backends import Threads
from .batching import Batcher, Pending, concat_inputs, split_outputs
from .cache import RunnerCache
from .connect import connect_worker, heartbeat
from .devices import CPU, worker_device
from .protocol import Request, alive_key, encode_reply, queue_key, stats_key
from .store import META_FIELDS, StoredMeta
from .wire import Command, Line, execute

_UNREACHABLE = (redis.ConnectionError, redis.TimeoutError, RedisClusterException, OSError)
IDLE_BLOCK_S = 1.0
MAX_TAKE = 64  # requests taken per round trip
REPLY_TTL_S = 60


def _say(device: str, message: str) -> None:
    print(f"[sscontainer.ml.worker {device} {os.getpid()}] {message}", file=sys.stderr, flush=True)


class Worker:
    """Serves one device's queue through ``db`` (``redis.Redis`` or ``RedisCluster``)."""

    def __init__(self, db: Any, device: str, tag: str, threads: Threads = Threads()) -> None:
        self.db = db
        self.device = worker_device(device)
        self.tag = tag
        self.queue = queue_key(self.device, tag)
        self.stats = stats_key(tag)
        self.cache = RunnerCache(db, threads)
        self.batcher = Batcher()
        # answers wait here and go out with the next read of the queue (one round trip
        # fewer per request); a cluster pipeline cannot hold a blocking read: sent first
        self._outbox: list[Command] = []
        self._busy_us = 0
        self._defer = not isinstance(db, RedisCluster)
        self.line = Line(db)  # one connection of its own for the hot path

    # --- taking requests ------------------------------------------------------------
    def _take(self, timeout: float) -> None:
        """Send waiting answers and take what is queued, blocking up to ``timeout`` s."""
        if not self._defer:
            self._flush()
        commands, self._outbox = self._outbox, []
        blocking = timeout > 0.001
        if blocking:
            commands.append(("BLPOP", self.queue, round(timeout, 3)))
        else:
            commands.append(("LPOP", self.queue, MAX_TAKE))
        *sent, got = self.line.execute(commands)
        self._report(sent)
        if isinstance(got, Exception):
            raise got
        if blocking and got is not None:
            self._admit([got[1]], drain=True)
        elif not blocking and got:
            self._admit(got, drain=False)

    def _admit(self, raws: Sequence[bytes], drain: bool) -> None:
        """Read settings and inputs of new requests in one round trip; answer bad ones.

        With ``drain`` the same round trip also takes what queued up meanwhile.
        """
        requests: list[Request] = []
        for raw in raws:
            try:
                requests.append(Request.decode(raw))
            except (ValueError, KeyError, TypeError):
                _say(self.device, f"dropped a malformed request: {raw[:80]!r}")
        if not requests and not drain:
            return
        commands: list[Command] = [("LPOP", self.queue, MAX_TAKE - 1)] if drain else []
        for request in requests:
            commands.append(("HMGET", request.key, *META_FIELDS))
            commands.extend(("GET", key) for key in request.inputs)
        values = iter(self.line.execute(commands))
        more = next(values) if drain else None
        now = time.monotonic()
        failed: list[tuple[Request, str]] = []
        for request in requests:
            meta_values = next(values)
            raw_inputs = [next(values) for _ in request.inputs]
            try:
                meta = self._meta(request, meta_values)
                pairs = zip(request.inputs, raw_inputs, strict=True)
                inputs = [self._tensor(key, value) for key, value in pairs]
            except SSContainerError as exc:
                failed.append((request, str(exc)))
                continue
            target = worker_device(meta.device)
            if target != self.device and self.device == CPU:
                error = self._forward(request, target)
                if error:
                    failed.append((request, error))
                continue
            self.batcher.add(Pending(request, meta, inputs, now))
        if failed:
            self._answer([(r, [], error) for r, error in failed], batch=0)
        if isinstance(more, list) and more:
            self._admit(more, drain=False)

    def _forward(self, request: Request, device: str) -> str:
        """Hand a GPU model's request to the worker of its device; the error, if none runs."""
        if not self.db.exists(alive_key(device, self.tag)):
            return (
                f"model {request.key!r} is stored for {device} but no inference worker serves "
                f"{device} beside this shard: start the database with GPU workers "
                "(sscontainer.ml.hooks.set_ml_devices) or store the model for 'CPU'"
            )
        self.db.rpush(queue_key(device, self.tag), request.encode())
        return ""

    @staticmethod
    def _meta(request: Request, values: Any) -> StoredMeta:
        what = "script" if request.is_script else "model"
        if isinstance(values, Exception):
            raise BackendError(f"{what} key {request.key!r} cannot be read: {values}")
        try:
            meta = StoredMeta.parse(values)
        except (ValueError, TypeError, IndexError) as exc:
            raise BackendError(f"key {request.key!r} does not hold a model or script") from exc
        if meta is None:
            raise BackendError(f"no {what} is stored under key {request.key!r}")
        if meta.is_script != request.is_script:
            stored = "a script" if meta.is_script else "a model"
            raise BackendError(f"key {request.key!r} holds {stored}, not a {what}")
        return meta

    @staticmethod
    def _tensor(key: str, value: Any) -> Any:
        if isinstance(value, Exception):
            raise BackendError(f"input tensor {key!r} cannot be read: {value}")
        if value is None:
            raise BackendError(f"input tensor {key!r} does not exist")
        return decode(value, key)

    # --- running ----------------------------------------------------------------------
    def _run_one(self, item: Pending) -> list[Any]:
        runner = self.cache.get(item.request.key, item.meta)
        if item.request.is_script:
            return self._timed(runner.run, item.request.fn, item.inputs)
        return self._timed(runner.run, item.inputs)

    def _timed(self, run: Any, *args: Any) -> list[Any]:
        started = time.perf_counter()
        try:
            outputs: list[Any] = run(*args)
        finally:
            self._busy_us += int((time.perf_counter() - started) * 1e6)
        return outputs

    def _outputs_or_error(self, item: Pending) -> tuple[list[Any], str]:
        what = "script" if item.request.is_script else "model"
        try:
            return self._run_one(item), ""
        except BackendError as exc:
            return [], str(exc)
        except Exception as exc:  # whatever the framework raises goes back to the caller
            name = f"{item.request.key}.{item.request.fn}" if item.request.is_script else (
                item.request.key
            )
            return [], f"{what} {name!r} failed in the {item.meta.backend} backend: {exc}"

    def run_batch(self, batch: list[Pending]) -> None:
        """Run one batch (or one request) and queue the answers."""
        if len(batch) > 1:
            try:
                runner = self.cache.get(batch[0].request.key, batch[0].meta)
                outputs = self._timed(runner.run, concat_inputs(batch))
                per_item = split_outputs(outputs, batch)
            except Exception:  # run them one by one: only the faulty request gets the error
                for item in batch:
                    self.run_batch([item])
                return
            answers = [(i, o, "") for i, o in zip(batch, per_item, strict=True)]
            self._answer(answers, batch=len(batch))
            return
        outputs, error = self._outputs_or_error(batch[0])
        self._answer([(batch[0], outputs, error)], batch=1)

    def _answer(self, results: Sequence[tuple[Any, list[Any], str]], batch: int) -> None:
        """Store outputs and answer each caller (sent with the next read of the queue)."""
        out = self._outbox
        errors = 0
        for item, outputs, error in results:
            request = item.request if isinstance(item, Pending) else item
            if not error and len(outputs) != len(request.outputs):
                error = (
                    f"{request.key!r} produced {len(outputs)} output(s) but "
                    f"{len(request.outputs)} output name(s) were given"
                )
            if not error:
                try:
                    encoded = [encode(o) for o in outputs]
                except SSContainerError as exc:
                    error = f"{request.key!r} produced an output that cannot be stored: {exc}"
                else:
                    for key, value in zip(request.outputs, encoded, strict=True):
                        out.append(("SET", key, value))
            errors += bool(error)
            out.append(("RPUSH", request.reply, encode_reply(error, max(batch, 1))))
            out.append(("EXPIRE", request.reply, REPLY_TTL_S))
        if batch:  # a run of ``batch`` requests (0: answers to requests that never ran)
            out.append(("HINCRBY", self.stats, f"batch:{batch}", 1))
            out.append(("HINCRBY", self.stats, "busy_us", self._busy_us))  # in the backend
            self._busy_us = 0
        if errors:
            out.append(("HINCRBY", self.stats, "errors", errors))

    def _flush(self) -> None:
        commands, self._outbox = self._outbox, []
        if commands:
            self._report(execute(self.db, commands))

    def _report(self, results: Sequence[Any]) -> None:
        for result in results:
            if isinstance(result, Exception):
                _say(self.device, f"could not store an answer: {result}")

    # --- the loop ---------------------------------------------------------------------
    def step(self, idle: float = IDLE_BLOCK_S) -> None:
        """Take what arrived (waiting at most ``idle`` s, less when a batch waits), run it."""
        wait = self.batcher.wait_time(time.monotonic())
        self._take(idle if wait is None else min(wait, idle))
        ready = self.batcher.take_ready(time.monotonic())
        for index, batch in enumerate(ready):
            self.run_batch(batch)
            if index < len(ready) - 1:
                self._flush()  # its callers need not wait for the batches after it

    def serve(self, stop: threading.Event, reconnect_timeout: float) -> None:
        down_since: float | None = None
        while not stop.is_set():
            try:
                self.step()
                down_since = None
            except _UNREACHABLE as exc:
                self._outbox = []  # its callers gave up or will time out
                down_since = down_since or time.monotonic()
                if time.monotonic() - down_since > reconnect_timeout:
                    _say(self.device, f"database unreachable for {reconnect_timeout:g} s ({exc})")
                    return
                time.sleep(0.2)
            except Exception as exc:  # a bug or a command one request broke: keep serving
                self._outbox = []
                _say(self.device, f"error: {type(exc).__name__}: {exc}")
                time.sleep(0.05)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sscontainer.ml.worker",
        description="Run ML models and scripts stored in the database for its clients.",
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
    try:
        db, tag = connect_worker(address, password or None, options.startup_timeout)
    except SSContainerError as exc:
        _say(device, f"error: {exc}")
        return 1
    stop = threading.Event()
    beat = threading.Thread(
        target=heartbeat, args=(address, password or None, device, tag, stop), daemon=True
    )
    beat.start()
    _say(device, f"serving {address} (queue tag {tag})")
    try:
        Worker(db, device, tag, threads).serve(stop, options.reconnect_timeout)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
    _say(device, "stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
