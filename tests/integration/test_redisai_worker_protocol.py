"""The module's side of the worker protocol (PROTOCOL.md), driven by raw connections.

``fake_worker`` connections speak SSC.* by hand to inject what a real worker never sends
(malformed or wrongly sized results); device routing runs real worker processes."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import redis

from sscontainer.db.local import LocalDatabase
from tests.integration.redisai_support import (
    module_db,
    queue_state,
    raw,
    require_smartredis,
    sr_client,
    wait_for_workers,
    workers_for,
)

RUN = ("AI.MODELEXECUTE", "m", "INPUTS", 1, "x", "OUTPUTS", 1, "y", "TIMEOUT", 60000)


@pytest.fixture
def db() -> Iterator[LocalDatabase]:
    with module_db(redisai_args={"WORKER_WAIT_MS": "1500"}) as database:
        conn = raw(database)
        conn.execute_command("AI.MODELSTORE", "m", "ONNX", "CPU", "TAG", "t", "BLOB", b"model")
        conn.execute_command("AI.TENSORSET", "x", "INT16", 2, 2, "VALUES", 1, 2, 3, 4)
        conn.close()
        yield database


class Caller:
    """A client blocked in one command on its own thread."""

    def __init__(self, db: LocalDatabase, command: tuple[Any, ...] = RUN) -> None:
        self.result: Any = None
        self.thread = threading.Thread(target=self._run, args=(db, command))
        self.thread.start()

    def _run(self, db: LocalDatabase, command: tuple[Any, ...]) -> None:
        try:
            self.result = raw(db).execute_command(*command)
        except redis.ResponseError as exc:
            self.result = exc

    def answer(self) -> Any:
        self.thread.join(30)
        assert not self.thread.is_alive()
        return self.result


def until_no_worker(db: LocalDatabase) -> None:
    for _ in range(250):
        if queue_state(db)["CPU"][0] == 0:
            return
        time.sleep(0.02)
    raise AssertionError(f"the worker is still registered: {queue_state(db)}")


def take(fake_worker: redis.Redis, block_ms: int = 5000) -> list[Any]:
    reply: list[Any] = fake_worker.execute_command("SSC.JOBTAKE", "CPU", 8, block_ms)
    return reply


def test_a_taken_job_carries_everything_the_worker_needs(db: LocalDatabase) -> None:
    fake_worker = raw(db)
    assert take(fake_worker, 0) == []  # registers, nothing queued
    caller = Caller(db)
    started = time.monotonic()
    (job,) = take(fake_worker, 20000)  # woken by the job, not by the block time
    assert time.monotonic() - started < 15
    job_id, kind, key, version, backend, device = job[:6]
    assert (kind, key, backend, device) == (b"MODEL", b"m", b"ONNX", b"CPU")
    assert len(version) == 16 and job[6:10] == [0, 0, 0, b""]
    assert job[10] == [[b"INT16", [2, 2], np.array([1, 2, 3, 4], np.int16).tobytes()]]
    assert job[11] == 1 and job[12] >= 0 and job[13:] == [b"POSITIONAL", -1, [], []]
    asset = fake_worker.execute_command("SSC.ASSETGET", job_id)
    assert asset == [b"MODEL", version, b"ONNX", b"CPU", [], [], b"model"]
    assert queue_state(db)["CPU"] == (1, 0, 1)
    out = np.array([[0.5, 1.5]], np.float32)
    assert fake_worker.execute_command("SSC.JOBDONE", job_id, 1234, 1, 1, "FLOAT", 2, 1, 2,
                                       out.tobytes()) == 1
    assert caller.answer() == b"OK"
    conn = raw(db)
    assert conn.execute_command("AI.TENSORGET", "y", "META", "BLOB") == [
        b"dtype", b"FLOAT", b"shape", [1, 2], b"blob", out.tobytes()]
    info = conn.execute_command("AI.INFO", "m")
    assert info[info.index(b"duration") + 1] == 1234 and info[info.index(b"calls") + 1] == 1
    assert fake_worker.execute_command("SSC.JOBDONE", job_id, 1, 1, 0) == 0  # already done
    with pytest.raises(redis.ResponseError, match=f"unknown job {job_id}"):
        fake_worker.execute_command("SSC.ASSETGET", job_id)


def test_versions_follow_the_stored_bytes(db: LocalDatabase) -> None:
    conn, fake_worker = raw(db), raw(db)
    versions = []
    for blob in (b"model", b"model", b"other"):
        conn.execute_command("AI.MODELSTORE", "m", "ONNX", "CPU", "TAG", "t", "BLOB", blob)
        caller = Caller(db)
        (job,) = take(fake_worker)
        versions.append(job[3])
        fake_worker.execute_command("SSC.JOBFAIL", job[0], "stop")
        caller.answer()
    assert versions[0] == versions[1] != versions[2]  # the same model again keeps its version


def test_wrong_and_malformed_results_fail_the_job(db: LocalDatabase) -> None:
    fake_worker = raw(db)
    caller = Caller(db)
    (job,) = take(fake_worker)
    out = np.zeros(2, np.float32).tobytes()
    assert fake_worker.execute_command("SSC.JOBDONE", job[0], 1, 1, 2, "FLOAT", 1, 2, out,
                                       "FLOAT", 1, 2, out) == 1
    assert "model 'm' returned 2 outputs but 1 output keys were given" in str(caller.answer())
    caller = Caller(db)
    (job,) = take(fake_worker)
    with pytest.raises(redis.ResponseError, match="does not match its shape"):
        fake_worker.execute_command("SSC.JOBDONE", job[0], 1, 1, 1, "FLOAT", 1, 3, out)
    assert "unusable result for model 'm'" in str(caller.answer())
    caller = Caller(db)
    (job,) = take(fake_worker)
    assert fake_worker.execute_command("SSC.JOBFAIL", job[0], "it broke\r\nbadly") == 1
    assert str(caller.answer()) == "it broke  badly"
    conn = raw(db)
    assert conn.exists("y") == 0
    info = conn.execute_command("AI.INFO", "m")
    assert info[info.index(b"errors") + 1] == 3 and info[info.index(b"calls") + 1] == 3
    assert fake_worker.execute_command("SSC.JOBFAIL", 99999, "x") == 0


def test_one_connection_serves_one_device(db: LocalDatabase) -> None:
    fake_worker = raw(db)
    take(fake_worker, 0)
    with pytest.raises(redis.ResponseError, match="already takes jobs for device CPU"):
        fake_worker.execute_command("SSC.JOBTAKE", "GPU:0", 1, 0)
    assert queue_state(db)["CPU"][0] == 1
    fake_worker.connection_pool.disconnect()
    until_no_worker(db)


def test_a_worker_gone_while_blocked_and_its_held_jobs(db: LocalDatabase) -> None:
    address = db.addresses[0]
    blocked = socket.create_connection((address.host, address.port))
    blocked.sendall(b"SSC.JOBTAKE CPU 8 30000\r\n")
    for _ in range(250):
        if queue_state(db)["CPU"][0] == 1:
            break
        time.sleep(0.02)
    blocked.close()  # gone while blocked in SSC.JOBTAKE
    until_no_worker(db)
    second = raw(db)
    caller = Caller(db)
    (job,) = take(second)
    second.connection_pool.disconnect()  # a worker dies holding a job
    assert "exited before it finished (model 'm')" in str(caller.answer())
    assert queue_state(db)["CPU"] == (0, 0, 0)


# --- devices: real workers ------------------------------------------------------------------

def test_jobs_go_to_their_devices_worker(db: LocalDatabase) -> None:
    """No GPU needed: a GPU:1 model runs in the worker started for GPU:1 (which sees one
    device, CUDA_VISIBLE_DEVICES=1), never in the CPU worker; no GPU:2 worker, no run."""
    require_smartredis()
    client = sr_client(db)
    client.put_tensor("gin", np.ones((1, 3), np.float32))
    client.set_model("on_gpu1", b"not an onnx model", "ONNX", "GPU:1")
    client.set_model("on_gpu2", b"not an onnx model", "ONNX", "GPU:2")
    with workers_for(db, devices=("CPU", "GPU:1")):
        wait_for_workers(db, device="GPU:1")
        with pytest.raises(Exception, match="could not load ONNX model 'on_gpu1'") as info:
            client.run_model("on_gpu1", "gin", "gout")
        assert "GPU:1" in str(info.value) or "CUDA" in str(info.value)
        with pytest.raises(Exception, match="no inference worker serves device GPU:2"):
            client.run_model("on_gpu2", "gin", "gout")
        state = queue_state(db)
        assert state["GPU:1"] == (1, 0, 0) and state["CPU"][0] == 1
        client.set_model_multigpu("multi", b"x", "ONNX", 0, 2)
        assert client.model_exists("multi.GPU:0") and client.model_exists("multi.GPU:1")
        meta = raw(db).execute_command("AI.MODELGET", "multi.GPU:1", "META")
        assert meta[meta.index(b"device") + 1] == b"GPU:1"
        with pytest.raises(Exception, match="'multi.GPU:1'"):  # rank 3 of 2 GPUs -> GPU:1
            client.run_model_multigpu("multi", 3, 0, 2, "gin", "gout")
