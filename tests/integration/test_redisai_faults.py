"""Faults around jobs: a worker killed mid-run, callers that disconnect, no worker, queue
timeouts, re-sent commands, malformed commands of every kind, blocking where it cannot.
Each ends with the server alive (same pid) and nothing left queued or running."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import redis

from sscontainer.db.local import LocalDatabase
from sscontainer.db.server import server_pid
from tests.integration.ml_models import require_backend, slow_model
from tests.integration.redisai_support import (
    module_db,
    queue_state,
    raw,
    require_smartredis,
    sr_client,
    wait_for_workers,
    workers_for,
)

RUN_SLOW = ("AI.MODELEXECUTE", "slow", "INPUTS", 2, "x", "n", "OUTPUTS", 1, "y", "TIMEOUT", 60000)


def until(condition: Any, timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout:g} s")
        time.sleep(0.02)


def store_slow(conn: redis.Redis, loops: int) -> None:
    conn.execute_command("AI.MODELSTORE", "slow", "TORCH", "CPU", "BLOB", slow_model())
    x = np.random.default_rng(0).random((64, 256), dtype=np.float32)
    conn.execute_command("AI.TENSORSET", "x", "FLOAT", 64, 256, "BLOB", x.tobytes())
    conn.execute_command("AI.TENSORSET", "n", "INT64", 1, "VALUES", loops)


def settle(db: LocalDatabase) -> None:
    """Nothing queued or running any more."""
    until(lambda: all(q == 0 and r == 0 for _, q, r in queue_state(db).values()),
          what="an empty queue")


@pytest.fixture
def db() -> Iterator[LocalDatabase]:
    require_backend("torch", "torch")
    with module_db(redisai_args={"WORKER_WAIT_MS": "800"}) as database:
        pid = server_pid(database.addresses[0])
        yield database
        assert server_pid(database.addresses[0]) == pid  # the server survived it all


def calls(conn: redis.Redis, key: str) -> int:
    info = conn.execute_command("AI.INFO", key)
    return int(info[info.index(b"calls") + 1])


def test_a_worker_killed_mid_run_fails_its_job_at_once(db: LocalDatabase) -> None:
    conn = raw(db)
    store_slow(conn, 200_000)  # minutes of work: only the kill ends it
    with workers_for(db) as procs:
        wait_for_workers(db)
        result: dict[str, BaseException] = {}

        def caller() -> None:
            try:
                raw(db).execute_command(*RUN_SLOW)
            except BaseException as exc:
                result["error"] = exc

        thread = threading.Thread(target=caller)
        thread.start()
        until(lambda: queue_state(db)["CPU"][2] == 1, what="the job running")
        os.kill(procs[0].pid, signal.SIGKILL)
        thread.join(30)
        assert not thread.is_alive()
        assert "the inference worker running this job exited before it finished (model 'slow')" \
            in str(result["error"])
    assert queue_state(db)["CPU"] == (0, 0, 0)
    assert conn.exists("y") == 0
    assert calls(conn, "slow") == 0


def test_a_caller_that_disconnects_mid_run_leaves_nothing_behind(db: LocalDatabase) -> None:
    conn = raw(db)
    store_slow(conn, 3000)
    with workers_for(db):
        wait_for_workers(db)
        gone = raw(db)
        gone.connection_pool.get_connection().send_command(*RUN_SLOW)  # no wait for the reply
        until(lambda: queue_state(db)["CPU"][2] == 1, what="the job running")
        gone.connection_pool.disconnect()
        settle(db)  # the worker finishes and reports: nothing is written for nobody
        assert conn.exists("y") == 0
        assert calls(conn, "slow") == 1
        conn.execute_command(*RUN_SLOW)  # and the next caller is served as usual
        assert conn.exists("y") == 1


def test_a_queued_job_is_dropped_when_its_caller_leaves(db: LocalDatabase) -> None:
    conn = raw(db)
    store_slow(conn, 1)
    sock = socket.create_connection((db.addresses[0].host, db.addresses[0].port))
    sock.sendall(redis.connection.Connection().pack_command(*RUN_SLOW)[0])
    until(lambda: queue_state(db).get("CPU", (0, 0, 0))[1] == 1, what="the job queued")
    sock.close()
    until(lambda: queue_state(db)["CPU"][1] == 0, timeout=0.7, what="the job dropped")


def test_no_worker_is_a_bounded_error(db: LocalDatabase) -> None:
    require_smartredis()
    client = sr_client(db)
    client.put_tensor("lonely_in", np.ones(2, np.float32))
    client.set_model("lonely", b"model", "ONNX", "CPU")
    started = time.monotonic()
    with pytest.raises(Exception, match="no inference worker serves device CPU on this database"):
        client.run_model("lonely", "lonely_in", "lonely_out")
    assert time.monotonic() - started < 30  # WORKER_WAIT_MS is 800 here
    assert queue_state(db)["CPU"] == (0, 0, 0)


def test_queue_timeout_answers_timedout(db: LocalDatabase) -> None:
    conn = raw(db)
    store_slow(conn, 1)
    assert conn.execute_command(*RUN_SLOW[:-1], 100) == b"TIMEDOUT"
    assert queue_state(db)["CPU"] == (0, 0, 0)


LLONG_MAX = 2**63 - 1


def test_waits_near_the_largest_integer_do_not_wrap_around() -> None:
    """A WORKER_WAIT_MS or TIMEOUT near LLONG_MAX is a long wait, not a deadline in the
    past: with no worker, TIMEOUT 300 answers TIMEDOUT (not at once 'no worker'), and a
    huge TIMEOUT still ends with the bounded 'no worker' error."""
    run = ("AI.MODELEXECUTE", "m", "INPUTS", 1, "x", "OUTPUTS", 1, "y", "TIMEOUT")
    with module_db(redisai_args={"WORKER_WAIT_MS": str(LLONG_MAX)}) as database:
        conn = raw(database)
        conn.execute_command("AI.MODELSTORE", "m", "ONNX", "CPU", "BLOB", b"model")
        conn.execute_command("AI.TENSORSET", "x", "FLOAT", 1, "VALUES", 1)
        started = time.monotonic()
        assert conn.execute_command(*run, 300) == b"TIMEDOUT"
        assert time.monotonic() - started >= 0.25
        assert queue_state(database)["CPU"] == (0, 0, 0)
    with module_db(redisai_args={"WORKER_WAIT_MS": "300"}) as database:
        conn = raw(database)
        conn.execute_command("AI.MODELSTORE", "m", "ONNX", "CPU", "BLOB", b"model")
        conn.execute_command("AI.TENSORSET", "x", "FLOAT", 1, "VALUES", 1)
        with pytest.raises(redis.ResponseError, match="no inference worker serves device CPU"):
            conn.execute_command(*run, LLONG_MAX)
        assert queue_state(database)["CPU"] == (0, 0, 0)


def test_a_resent_command_joins_the_running_job(db: LocalDatabase) -> None:
    conn = raw(db)
    store_slow(conn, 3000)
    with workers_for(db):
        wait_for_workers(db)
        replies: list[Any] = []
        first = threading.Thread(target=lambda: replies.append(raw(db).execute_command(*RUN_SLOW)))
        first.start()
        until(lambda: queue_state(db)["CPU"][2] == 1, what="the job running")
        replies.append(raw(db).execute_command(*RUN_SLOW))  # as SmartRedis re-sends it
        first.join(60)
        assert replies == [b"OK", b"OK"]
        assert calls(conn, "slow") == 1  # one execution served both
        conn.execute_command("AI.TENSORSET", "n", "INT64", 1, "VALUES", 3000)  # new input object
        conn.execute_command(*RUN_SLOW)
        assert calls(conn, "slow") == 2


def test_blocking_inside_multi_or_a_script_is_refused(db: LocalDatabase) -> None:
    conn = raw(db)
    store_slow(conn, 1)
    pipe = conn.pipeline(transaction=True)
    pipe.execute_command(*RUN_SLOW)
    (result,) = pipe.execute(raise_on_error=False)
    assert "cannot run inside MULTI/EXEC or a script" in str(result)
    with pytest.raises(redis.ResponseError, match="cannot run inside MULTI/EXEC or a script"):
        conn.eval("return redis.call('AI.MODELEXECUTE', 'slow', 'INPUTS', 2, 'x', 'n', "
                  "'OUTPUTS', 1, 'y')", 0)
    assert queue_state(db).get("CPU", (0, 0, 0)) == (0, 0, 0)


MALFORMED = [
    (("AI.MODELEXECUTE", "m", "INPUTS", 1, "x"), "wrong number of arguments for 'AI.MODELEXECUTE' command"),
    (("AI.MODELEXECUTE", "nope", "INPUTS", 1, "x", "OUTPUTS", 1, "y"), "model key is empty"),
    (("AI.MODELEXECUTE", "x", "INPUTS", 1, "x", "OUTPUTS", 1, "y"), "WRONGTYPE"),
    (("AI.MODELEXECUTE", "m", "INPUT", 1, "x", "OUTPUTS", 1, "y"), "INPUTS not specified"),
    (("AI.MODELEXECUTE", "m", "INPUTS", "one", "x", "OUTPUTS", 1, "y"), "Invalid argument for input_count"),
    (("AI.MODELEXECUTE", "m", "INPUTS", 0, "OUTPUTS", 1, "y", "z"), "Input count must be a positive integer"),
    (("AI.MODELEXECUTE", "m", "INPUTS", 9, "x", "OUTPUTS", 1, "y"), "number of input keys to AI.MODELEXECUTE command does not match"),
    (("AI.MODELEXECUTE", "m", "INPUTS", 1, "x", "OUTPUT", 1, "y"), "OUTPUTS not specified"),
    (("AI.MODELEXECUTE", "m", "INPUTS", 1, "x", "OUTPUTS", "a", "y"), "Invalid argument for output_count"),
    (("AI.MODELEXECUTE", "m", "INPUTS", 1, "x", "OUTPUTS", -1, "y"), "Output count must be a positive integer"),
    (("AI.MODELEXECUTE", "m", "INPUTS", 1, "x", "OUTPUTS", 3, "y"), "number of output keys to AI.MODELEXECUTE command does not match"),
    (("AI.MODELEXECUTE", "m", "INPUTS", 1, "x", "OUTPUTS", 1, "y", "TIMEOUT"), "No value provided for TIMEOUT"),
    (("AI.MODELEXECUTE", "m", "INPUTS", 1, "x", "OUTPUTS", 1, "y", "TIMEOUT", 0), "Invalid value for TIMEOUT"),
    (("AI.MODELEXECUTE", "m", "INPUTS", 1, "x", "OUTPUTS", 1, "y", "SLOW", 1), "Invalid argument: SLOW"),
    (("AI.MODELEXECUTE", "m", "INPUTS", 1, "missing", "OUTPUTS", 1, "y"), "tensor key is empty or in a different shard"),
    (("AI.MODELEXECUTE", "m", "INPUTS", 1, "str", "OUTPUTS", 1, "y"), "WRONGTYPE"),
    (("AI.MODELEXECUTE", "m", "INPUTS", 1, "x", "OUTPUTS", 1, "str"), "WRONGTYPE"),
    (("AI.MODELEXECUTE", "tf", "INPUTS", 1, "x", "OUTPUTS", 1, "y"), "Number of keys given as INPUTS here does not match model definition"),
    (("AI.MODELEXECUTE", "tf", "INPUTS", 2, "x", "x", "OUTPUTS", 2, "y", "z"), "Number of keys given as OUTPUTS here does not match model definition"),
    (("AI.SCRIPTRUN", "s"), "wrong number of arguments for 'AI.SCRIPTRUN' command"),
    (("AI.SCRIPTRUN", "nope", "f", "INPUTS", "x", "OUTPUTS", "y"), "script key is empty"),
    (("AI.SCRIPTRUN", "m", "f", "INPUTS", "x", "OUTPUTS", "y"), "WRONGTYPE"),
    (("AI.SCRIPTRUN", "s", "f", "x", "INPUTS", "x", "OUTPUTS", "y"), "Unrecongnized parameter to SCRIPTRUN"),
    (("AI.SCRIPTRUN", "s", "f", "INPUTS", "x", "INPUTS", "x"), "Already encountered an INPUTS keyword in SCRIPTRUN"),
    (("AI.SCRIPTRUN", "s", "f", "INPUTS", "x", "OUTPUTS", "y", "INPUTS", "x"), "Already encountered an INPUTS section in SCRIPTRUN"),
    (("AI.SCRIPTRUN", "s", "f", "INPUTS", "x", "OUTPUTS", "y", "OUTPUTS"), "Already encountered an OUTPUTS keyword in SCRIPTRUN"),
    (("AI.SCRIPTRUN", "s", "f", "$", "INPUTS", "x"), "Encountered a variable size list of tensors outside of input section"),
    (("AI.SCRIPTRUN", "s", "f", "INPUTS", "$", "x", "$", "x"), "Already encountered a variable size list of tensors"),
    (("AI.SCRIPTRUN", "s", "f", "TIMEOUT", 5, "TIMEOUT", 5), "Already encountered an TIMEOUT section in SCRIPTRUN"),
    (("AI.SCRIPTRUN", "s", "f", "INPUTS", "missing", "OUTPUTS", "y"), "tensor key is empty"),
    (("AI.SCRIPTEXECUTE", "s", "f"), "wrong number of arguments for 'AI.SCRIPTEXECUTE' command"),
    (("AI.SCRIPTEXECUTE", "s", "f", "OUTPUTS", 1, "y"), "KEYS or INPUTS scope must be provided first for AI.SCRIPTEXECUTE command"),
    (("AI.SCRIPTEXECUTE", "s", "f", "KEYS", 0, "x"), "Invalid or negative value found in number of KEYS"),
    (("AI.SCRIPTEXECUTE", "s", "f", "KEYS", 3, "x"), "Number of pre declared KEYS to be used in the command does not match"),
    (("AI.SCRIPTEXECUTE", "s", "f", "KEYS"), "Missing arguments after KEYS keyword"),
    (("AI.SCRIPTEXECUTE", "s", "f", "INPUTS", "one", "x"), "Invalid argument for inputs count in AI.SCRIPTEXECUTE"),
    (("AI.SCRIPTEXECUTE", "s", "f", "INPUTS", 4, "x"), "number of inputs to AI.SCRIPTEXECUTE command does not match"),
    (("AI.SCRIPTEXECUTE", "s", "f", "INPUTS", 1, "x", "INPUTS", 1, "x"), "Already Encountered INPUTS scope in AI.SCRIPTEXECUTE command"),
    (("AI.SCRIPTEXECUTE", "s", "f", "INPUTS", 1, "x", "ARGS", "a"), "Invalid argument for keys count in AI.SCRIPTEXECUTE"),
    (("AI.SCRIPTEXECUTE", "s", "f", "INPUTS", 1, "x", "ARGS", 5, "a"), "number of args to AI.SCRIPTEXECUTE command does not match"),
    (("AI.SCRIPTEXECUTE", "s", "f", "INPUTS", 1, "x", "OUTPUTS", 2, "y"), "number of outputs to AI.SCRIPTEXECUTE command does not match"),
    (("AI.SCRIPTEXECUTE", "s", "f", "INPUTS", 1, "x", "WHAT"), "Invalid AI.SCRIPTEXECUTE command. Unexpected argument: WHAT"),
    (("AI.SCRIPTEXECUTE", "s", "f", "INPUTS", 1, "x", "TIMEOUT"), "No value provided for TIMEOUT in AI.SCRIPTEXECUTE"),
    (("AI.SCRIPTEXECUTE", "s", "f", "INPUTS", 1, "x", "TIMEOUT", 5, "y"), "Encountered problem parsing AI.SCRIPTEXECUTE"),
    (("SSC.JOBTAKE", "TPU", 1, 0), "invalid device"),
    (("SSC.JOBTAKE", "CPU", 0, 0), "invalid job count"),
    (("SSC.JOBTAKE", "CPU", 1, -1), "invalid block time"),
    (("SSC.JOBDONE", "x", 1, 1, 0), "malformed SSC.JOBDONE"),
    (("SSC.JOBFAIL", "x", "m"), "malformed SSC.JOBFAIL"),
    (("SSC.ASSETGET", 12345), "unknown job 12345"),
]


@pytest.mark.parametrize("command, text", MALFORMED)
def test_malformed_commands_are_error_replies(db: LocalDatabase, command: tuple[object, ...],
                                              text: str) -> None:
    conn = raw(db)
    conn.execute_command("AI.MODELSTORE", "m", "ONNX", "CPU", "BLOB", b"x")
    conn.execute_command("AI.MODELSTORE", "tf", "TF", "CPU", "INPUTS", 2, "a", "b", "OUTPUTS",
                         1, "c", "BLOB", b"x")
    conn.execute_command("AI.SCRIPTSET", "s", "CPU", "SOURCE", "def f(x):\n    return x\n")
    conn.execute_command("AI.TENSORSET", "x", "FLOAT", 1, "VALUES", 1)
    conn.set("str", "plain")
    with pytest.raises(redis.ResponseError) as info:
        conn.execute_command(*command)
    assert text in str(info.value)
    assert queue_state(db).get("CPU", (0, 0, 0)) == (0, 0, 0)
