"""SmartSim 0.8's lifecycle behaviour with real processes and real databases (local launcher).

poll/start(block=True) wait for every running non-database job, summary() has
SmartSim's index and RunID columns, reconnect_orchestrator adopts a database an
earlier driver left running, database identifiers conflict at start.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from sscontainer import Experiment, Status
from sscontainer.errors import SSDBIDConflictError
from tests.integration.db_fixtures import free_port_block, require_server

PY = sys.executable


def _sleep(exp: Experiment, name: str, seconds: float) -> object:
    return exp.create_model(name, exp.create_run_settings(PY, ["-c", f"import time; time.sleep({seconds})"]))


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_poll_returns_while_a_database_runs(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    require_server()
    exp = Experiment("poll", exp_path=str(tmp_path))
    db = exp.create_database(port=free_port_block(1))
    exp.start(db)
    try:
        model = _sleep(exp, "short", 1.5)
        exp.start(model, block=False)
        logger = logging.getLogger("sscontainer.experiment")
        logger.addHandler(caplog.handler)
        caplog.set_level(logging.INFO, logger="sscontainer.experiment")
        try:
            began = time.monotonic()
            exp.poll(interval=1)  # SmartSim: waits for the model, not the database
        finally:
            logger.removeHandler(caplog.handler)
        assert time.monotonic() - began < 60
        assert exp.get_status(model) == [Status.COMPLETED]
        assert exp.get_status(db) == [Status.RUNNING] and db.is_active()
        assert "Model short: Running" in caplog.text  # verbose: status every interval
    finally:
        exp.stop(db)


def test_start_block_waits_for_every_running_job(tmp_path: Path) -> None:
    exp = Experiment("block", exp_path=str(tmp_path))
    slow = _sleep(exp, "slow", 3)
    quick = _sleep(exp, "quick", 0)
    exp.start(slow, block=False)
    exp.start(quick, block=True)  # SmartSim waits for every job, not only `quick`
    assert exp.get_status(slow, quick) == [Status.COMPLETED, Status.COMPLETED]
    assert exp.finished(slow) and exp.finished(quick)


def test_summary_has_index_and_run_ids(tmp_path: Path) -> None:
    exp = Experiment("summary", exp_path=str(tmp_path))
    model = exp.create_model("model", exp.create_run_settings("echo", "Hello"))
    exp.start(model)
    lines = exp.summary(style="plain").split("\n")
    assert len(lines) == 2
    headers, values = lines[0].split(), lines[1].split()
    row = dict(zip(["Index", *headers], values, strict=True))
    assert row["Index"] == "0" and row["Name"] == "model" and row["Entity-Type"] == "Model"
    assert row["RunID"] == "0" and row["Returncode"] == "0" and row["Status"] == "Completed"
    assert float(row["Time"]) >= 0 and "." in row["Time"]
    exp.start(model)  # a second run of the same entity
    rows = [line.split() for line in exp.summary(style="plain").split("\n")[1:]]
    assert [(r[0], r[4]) for r in rows] == [("0", "0"), ("1", "1")]
    header = exp.summary().splitlines()[0]  # github: an index column with an empty header
    assert header.replace(" ", "").startswith("||Name|Entity-Type|JobID|RunID|Time|Status|")


def test_start_summary_logs_the_launch_summary(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    exp = Experiment("launch", exp_path=str(tmp_path))
    model = exp.create_model("m", exp.create_run_settings("true"))
    logger = logging.getLogger("sscontainer.experiment")
    logger.addHandler(caplog.handler)
    caplog.set_level(logging.INFO, logger="sscontainer.experiment")
    try:
        exp.start(model, summary=True)
    finally:
        logger.removeHandler(caplog.handler)
    assert "=== Launch Summary ===" in caplog.text and "Models: 1" in caplog.text
    assert "Database Status: inactive" in caplog.text


def test_database_identifiers_conflict_at_start(tmp_path: Path) -> None:
    require_server()
    exp = Experiment("ids", exp_path=str(tmp_path))
    first = exp.create_database(port=free_port_block(1), db_identifier="same")
    second = exp.create_database(port=free_port_block(1), db_identifier="same")
    exp.start(first)
    try:
        with pytest.raises(SSDBIDConflictError, match="already been used"):
            exp.start(second)
        colo = exp.create_model("colo", exp.create_run_settings(PY, ["-c", "pass"]))
        colo.colocate_db_tcp(port=free_port_block(1), db_identifier="same")
        with pytest.raises(SSDBIDConflictError):
            exp.start(colo)
        assert exp.get_status(colo) == [Status.NEVER_STARTED]
        # a named database reaches models as SSDB_<id> and SR_DB_TYPE_<id>, as in SmartSim
        code = "import os; print(os.environ['SSDB_same'], os.environ['SR_DB_TYPE_same'])"
        model = exp.create_model("user", exp.create_run_settings(PY, ["-c", code]))
        exp.start(model)
        out = (Path(model.path) / "user.out").read_text().split()
        assert out == [first.get_address()[0], "Standalone"]
    finally:
        exp.stop(first)
    exp.start(second)  # the identifier is free again
    exp.stop(second)


def test_reconnect_orchestrator_from_its_checkpoint(tmp_path: Path) -> None:
    require_server()
    port = free_port_block(1)
    first = tmp_path / "first"
    driver = textwrap.dedent(f"""
        from sscontainer import Experiment
        exp = Experiment("first", exp_path={str(first)!r})
        db = exp.create_database(port={port})
        exp.start(db)
        print(db.checkpoint_file)
    """)
    env = {**os.environ, "SSCONTAINER_LEAVE_DATABASES": "1"}  # outlive the driver, as SmartSim
    done = subprocess.run([PY, "-c", driver], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    checkpoint = done.stdout.strip().splitlines()[-1]
    assert checkpoint == str(first / "orchestrator" / "smartsim_db.dat")

    exp = Experiment("second", exp_path=str(tmp_path / "second"))
    db = exp.reconnect_orchestrator(checkpoint)
    shard = exp.jobs.get("orchestrator_0")
    assert shard is not None and _alive(int(shard.handle))
    try:
        assert db.is_active() and db.get_address() == [f"127.0.0.1:{port}"]
        assert exp.get_status(db) == [Status.RUNNING]
        code = "import os; print(os.environ['SSDB'])"
        model = exp.create_model("user", exp.create_run_settings(PY, ["-c", code]))
        exp.start(model)
        assert (Path(model.path) / "user.out").read_text().strip() == f"127.0.0.1:{port}"
    finally:
        exp.stop(db)
    assert not db.is_active() and not _alive(int(shard.handle))
    assert exp.get_status(db) == [Status.CANCELLED]
    with pytest.raises(FileNotFoundError):
        exp.reconnect_orchestrator(str(tmp_path / "missing.dat"))


def test_running_database_is_active_infrastructure_and_secrets_hidden(tmp_path: Path) -> None:
    require_server()
    exp = Experiment("act", exp_path=str(tmp_path))
    db = exp.create_database(port=free_port_block(1))
    db.password = "s3cret-value"  # a password would reach the environment: never printed
    exp.start(db)
    try:
        model = exp.create_model("m", exp.create_run_settings(PY))
        text = exp.preview(db, model, verbosity_level="developer")
        assert "== Active Infrastructure ==" in text
        assert "WARNING: Cannot preview orchestrator, because it is already started." in text
        assert "s3cret-value" not in text and "SSDB_PASSWORD='<hidden>'" in text
    finally:
        exp.stop(db)


def test_mpirun_settings_launch_ranks(tmp_path: Path) -> None:
    from tests.conftest import require_service

    require_service(shutil.which("mpirun") is not None, "Open MPI", "apt-get install openmpi-bin")
    exp = Experiment("mpi", exp_path=str(tmp_path))
    code = "import os; print('rank', os.environ['OMPI_COMM_WORLD_RANK'], flush=True)"
    rs = exp.create_run_settings(PY, ["-c", code], run_command="mpirun")
    rs.set_tasks(2)
    rs.set("oversubscribe")  # two ranks even on a one-core machine
    if os.geteuid() == 0:  # CI runs as root; Open MPI wants to be told that is intended
        rs.update_env({"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"})
    model = exp.create_model("ranks", rs)
    exp.start(model)
    out = (Path(model.path) / "ranks.out").read_text()
    assert exp.get_status(model) == [Status.COMPLETED], (Path(model.path) / "ranks.err").read_text()
    assert sorted(out.split("\n")[:-1]) == ["rank 0", "rank 1"]
