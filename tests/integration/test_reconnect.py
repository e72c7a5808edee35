"""The manifest lets a new driver see and stop what a vanished driver started."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sscontainer import Experiment, Status
from sscontainer.db.address import find_free_port
from sscontainer.errors import SSConfigError
from tests.integration.db_fixtures import require_server

PY = sys.executable


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _vanishing_driver(exp_path: Path, port: int) -> None:
    """A driver that starts a database, a finished model and a sleeper, then dies."""
    code = textwrap.dedent(f"""
        import os, sys
        from sscontainer import Experiment
        exp = Experiment("recon", exp_path={str(exp_path)!r})
        db = exp.create_database(port={port})
        exp.start(db)
        done = exp.create_model("done", exp.create_run_settings(sys.executable, ["-c", "raise SystemExit(7)"]))
        sleeper = exp.create_model("sleeper", exp.create_run_settings(sys.executable, ["-c", "import time; time.sleep(120)"]))
        exp.generate(done, sleeper)
        exp.start(done, block=True)
        exp.start(sleeper, block=False)
        os._exit(0)  # no cleanup: the jobs outlive their driver
    """)
    subprocess.run([PY, "-c", code], check=True, timeout=60)


def test_reconnect_polls_and_stops(tmp_path: Path) -> None:
    require_server()
    exp_path = tmp_path / "exp"
    _vanishing_driver(exp_path, find_free_port())
    manifest = json.loads((exp_path / ".sscontainer" / "manifest.json").read_text())
    names = {e["name"] for e in manifest["entries"]}
    assert {"orchestrator_0", "done", "sleeper"} <= names
    # anything else recorded is the database's ML worker, which runs beside its shard
    assert all(n.startswith("orchestrator_0_ml") for n in names - {"orchestrator_0", "done", "sleeper"})

    exp = Experiment.reconnect(str(exp_path))
    jobs = {j.name: j for j in exp.jobs.all()}
    assert jobs["done"].status == Status.FAILED and jobs["done"].returncode == 7
    assert jobs["sleeper"].refresh() == Status.RUNNING
    assert jobs["orchestrator_0"].refresh() == Status.RUNNING
    pids = [int(jobs["sleeper"].handle), int(jobs["orchestrator_0"].handle)]
    assert all(_alive(p) for p in pids)
    running = len(exp.jobs.running())

    result = subprocess.run(
        [PY, "-m", "sscontainer.cli", "stop", str(exp_path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert f"stopped {running} running job(s)" in result.stdout
    assert not any(_alive(p) for p in pids)

    status = subprocess.run(
        [PY, "-m", "sscontainer.cli", "status", str(exp_path)], capture_output=True, text=True, timeout=60
    )
    assert status.returncode == 0
    rows = {line.split("|")[2].strip(): line for line in status.stdout.splitlines()[2:]}
    assert "Cancelled" in rows["sleeper"] and "Cancelled" in rows["orchestrator_0"]
    assert "Failed" in rows["done"] and "| 7 " in rows["done"]


def test_status_of_a_directory_without_manifest(tmp_path: Path) -> None:
    with pytest.raises(SSConfigError, match="manifest.json"):
        Experiment.reconnect(str(tmp_path))
    result = subprocess.run(
        [PY, "-m", "sscontainer.cli", "status", str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
