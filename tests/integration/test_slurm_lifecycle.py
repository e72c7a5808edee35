"""Drivers on the login node and inside the allocation; Ctrl-C and `sscontainer stop` across
nodes leave no job and no process on any node; what a failure says, whatever the launcher.
"""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.integration.db_fixtures import free_port_block, require_server
from tests.integration.slurm_support import MultiNode, use_multinode

pytestmark = pytest.mark.slurm
PY = sys.executable


@pytest.fixture
def cluster(monkeypatch: pytest.MonkeyPatch) -> MultiNode:
    require_server()
    return use_multinode(monkeypatch)


DRIVER = textwrap.dedent("""
    import socket, sys
    from sscontainer import Experiment, Status
    exp = Experiment("inside", exp_path=sys.argv[1], launcher="slurm")
    try:  # plain processes on the nodes (see slurm_support.on_the_nodes)
        from sscontainer.settings.containers import ContainerSettings
        exp.default_container = ContainerSettings(runtime="none")
    except ValueError:
        pass
    db = exp.create_database(port=int(sys.argv[2]), interface="auto")
    exp.start(db)
    try:
        app = "from sscontainer import Client; import numpy as np; Client().put_tensor('x', np.ones(2))"
        m = exp.create_model("m", exp.create_run_settings(sys.executable, ["-c", app]))
        exp.generate(m)
        exp.start(m)
        assert exp.get_status(m) == [Status.COMPLETED], open(m.path + "/m.err").read()
        print(socket.gethostname(), db.get_address()[0])
    finally:
        exp.stop(db)
""")


@pytest.mark.parametrize("where", ["login", "n1"])
def test_driver_on_the_login_node_and_inside_the_allocation(
    cluster: MultiNode, tmp_path: Path, where: str
) -> None:
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    argv = [PY, str(driver), str(tmp_path / "exp"), str(free_port_block(1))]
    if where != "login":
        argv = ["srun", "-Q", "-w", where, *argv]  # the driver is a job step on n1
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    host, address = done.stdout.split()
    assert host == (socket.gethostname() if where == "login" else where)
    assert address.split(":")[0] in cluster.addresses.values()
    assert not cluster.settled(match=str(tmp_path))


SLEEPERS = textwrap.dedent("""
    import os, sys
    from sscontainer import Experiment
    exp = Experiment("sleepers", exp_path=sys.argv[1], launcher="slurm")
    try:  # plain processes on the nodes (see slurm_support.on_the_nodes)
        from sscontainer.settings.containers import ContainerSettings
        exp.default_container = ContainerSettings(runtime="none")
    except ValueError:
        pass
    db = exp.create_database(port=int(sys.argv[2]), db_nodes=3, interface="auto",
                             hosts=["n1", "n2", "n3"])
    exp.start(db)
    models = []
    for node in ("n2", "n4"):
        rs = exp.create_run_settings("sh", ["-c", "echo up; sleep 300"])
        rs.set_hostlist(node)
        models.append(exp.create_model(f"sleep_{node}", rs))
    exp.generate(*models)
    exp.start(*models, block=sys.argv[3] == "block")
    os._exit(0)  # a driver that went away without stopping anything
""")


def _start_sleepers(tmp_path: Path, mode: str) -> tuple[subprocess.Popen[bytes], Path]:
    driver = tmp_path / "driver.py"
    driver.write_text(SLEEPERS)
    exp_path = tmp_path / "exp"
    proc = subprocess.Popen([PY, str(driver), str(exp_path), str(free_port_block(3)), mode])
    outs = [exp_path / f"sleep_{n}" / f"sleep_{n}.out" for n in ("n2", "n4")]
    deadline = time.monotonic() + 180
    while not all(p.exists() and p.read_text().strip() == "up" for p in outs):
        assert time.monotonic() < deadline, "the models never started"
        assert mode == "block" or proc.poll() in (None, 0)
        time.sleep(0.3)
    return proc, exp_path


def _ours(cluster: MultiNode, exp_path: Path) -> list[str]:
    names = {"orchestrator_0", "orchestrator_1", "orchestrator_2", "sleep_n2", "sleep_n4"}
    return [line for line in cluster.active_jobs() if line.split()[1] in names]


def test_ctrl_c_leaves_no_job_and_no_process_on_any_node(cluster: MultiNode, tmp_path: Path) -> None:
    proc, exp_path = _start_sleepers(tmp_path, "block")
    assert len(_ours(cluster, exp_path)) == 5
    assert {line.split()[0] for line in cluster.leftovers() if "sleep 300" in line} >= {"n2", "n4"}
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=120) != 0
    assert not _ours(cluster, exp_path)
    assert not cluster.settled(), "processes left on the nodes"


def test_sscontainer_stop_leaves_no_job_and_no_process(cluster: MultiNode, tmp_path: Path) -> None:
    proc, exp_path = _start_sleepers(tmp_path, "noblock")
    assert proc.wait(timeout=120) == 0  # the driver is gone; its jobs are not
    assert len(_ours(cluster, exp_path)) == 5
    done = subprocess.run(
        [PY, "-m", "sscontainer.cli", "stop", str(exp_path)], capture_output=True, text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "stopped 5 running job(s)" in done.stdout
    assert not _ours(cluster, exp_path)
    assert not cluster.settled(), "processes left on the nodes"


FAILING = """
name: fails
launcher: {launcher}
models:
  - name: bad
    exe: sh
    args: ["-c", "echo starting; echo 'it broke here' >&2; exit 3"]
{run}"""


@pytest.mark.parametrize("launcher", ["local", "slurm"])
def test_a_failure_names_node_job_and_log_lines(
    launcher: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    node = socket.gethostname()
    run = ""
    if launcher == "slurm":
        use_multinode(monkeypatch)
        node, run = "n3", "    run: {hostlist: [n3]}\n"
    (tmp_path / "exp.yaml").write_text(FAILING.format(launcher=launcher, run=run))
    done = subprocess.run(
        [PY, "-m", "sscontainer.cli", "run", "-q", str(tmp_path / "exp.yaml")],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 1
    match = re.search(
        rf"bad: Failed \(exit 3\) after [\d.]+ s \(job (\w+) on {re.escape(node)}\)", done.stdout
    )
    assert match, done.stdout
    report = done.stdout[match.start():].split("\n|", 1)[0]  # up to the summary table
    assert "last lines of bad.err:" in report and "\n  | it broke here" in report
