"""Experiments on the real multi-node Slurm cluster: database, array, container, reconnect."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sscontainer import Experiment, Status
from sscontainer.db.address import find_free_port
from sscontainer.errors import LauncherError
from sscontainer.settings.containers import ContainerSettings
from tests.conftest import require_service
from tests.integration.db_fixtures import free_port_block
from tests.integration.slurm_support import use_multinode

pytestmark = pytest.mark.slurm
PY = sys.executable
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _slurm(monkeypatch: pytest.MonkeyPatch) -> None:
    use_multinode(monkeypatch)


def test_producer_consumer_under_slurm(tmp_path: Path) -> None:
    src = tmp_path / "pc"
    shutil.copytree(REPO / "examples" / "producer_consumer", src, ignore=shutil.ignore_patterns("runs"))
    text = (src / "experiment.yaml").read_text().replace("port: 6379", f"port: {find_free_port()}")
    # on the nodes with this Python, no container (the Apptainer runs: test_apptainer_slurm)
    (src / "experiment.yaml").write_text(text + "container: {runtime: none}\n")
    result = subprocess.run(
        [PY, "-m", "sscontainer.cli", "run", "--launcher", "slurm", "-q", str(src / "experiment.yaml")],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    run = src / "runs" / "producer-consumer"
    out = (run / "consumer" / "consumer.out").read_text()
    assert "1: [5 6 7 8]" in out and "2: [1 2 3 4]" in out
    assert (run / "consumer" / "consumer.sbatch").exists()
    queue = subprocess.run(["squeue", "-h", "-o", "%i %j"], capture_output=True, text=True).stdout
    assert str(run) not in queue and "orchestrator" not in queue  # the database job is gone


def test_batched_ensemble_is_one_job_array(tmp_path: Path) -> None:
    exp = Experiment("arr", exp_path=str(tmp_path), launcher="slurm")
    conf = tmp_path / "in.txt"
    conf.write_text("A=;A;")
    ens = exp.create_ensemble(
        "sweep", params={"A": [1, 2, 3]},
        run_settings=exp.create_run_settings("cat", "in.txt"),
        batch_settings=exp.create_batch_settings(nodes=1, time="00:05:00"),
    )
    # the preamble runs in each task's batch shell, in the array's directory
    ens.batch_settings.add_preamble("touch preamble-ran-$SLURM_ARRAY_TASK_ID")
    ens.attach_generator_files(to_configure=[str(conf)])
    exp.generate(ens)
    exp.start(ens)
    assert exp.get_status(ens) == [Status.COMPLETED] * 3
    assert sorted(p.name for p in Path(ens.path).glob("preamble-ran-*")) == [
        "preamble-ran-0", "preamble-ran-1", "preamble-ran-2"]
    handles = [exp.jobs.get(m.name).handle for m in ens]  # type: ignore[union-attr]
    assert len({h.split("_")[0] for h in handles}) == 1  # one array job
    assert [h.split("_")[1] for h in handles] == ["0", "1", "2"]
    for i, member in enumerate(ens):
        assert (Path(member.path) / f"{member.name}.out").read_text() == f"A={i + 1}"


def test_failing_job_and_reconnect_cancel(tmp_path: Path) -> None:
    exp_path = tmp_path / "exp"
    code = textwrap.dedent(f"""
        import os
        from sscontainer import Experiment
        exp = Experiment("rc", exp_path={str(exp_path)!r}, launcher="slurm")
        bad = exp.create_model("bad", exp.create_run_settings("sh", ["-c", "exit 3"]))
        sleeper = exp.create_model("sleeper", exp.create_run_settings("sleep", "300"))
        exp.generate(bad, sleeper)
        exp.start(bad, block=True)
        exp.start(sleeper, block=False)
        os._exit(0)
    """)
    subprocess.run([PY, "-c", code], check=True, timeout=120)
    exp = Experiment.reconnect(str(exp_path))
    jobs = {j.name: j for j in exp.jobs.all()}
    assert jobs["bad"].status == Status.FAILED and jobs["bad"].returncode == 3
    assert jobs["sleeper"].refresh() in (Status.QUEUED, Status.RUNNING)
    exp.stop()
    assert jobs["sleeper"].refresh() == Status.CANCELLED


def test_containerized_model_under_srun(tmp_path: Path) -> None:
    import docker

    try:
        engine = docker.from_env()
        engine.ping()
        engine.images.get("sscontainer/base:0.1.0")
    except Exception as exc:
        require_service(False, "Docker Engine with sscontainer/base", f".ci/docker-up.sh and .ci/build-images.sh ({exc})")
    exp = Experiment("ctr", exp_path=str(tmp_path), launcher="slurm")
    code = "import os, sys; print(os.getcwd(), os.getuid(), os.environ['GREETING']); sys.exit(5)"
    rs = exp.create_run_settings(
        "python3", ["-c", code], env_vars={"GREETING": "hi $(id) 'x'"},
        container=ContainerSettings(runtime="docker"),
    )
    model = exp.create_model("inimg", rs)
    exp.generate(model)
    exp.start(model)
    assert exp.get_status(model) == [Status.FAILED] and exp.get_returncodes(model) == [5]
    cwd, uid, greeting = (tmp_path / "inimg" / "inimg.out").read_text().split(" ", 2)
    assert cwd == "/work/inimg" and uid != "0"
    assert greeting.strip() == "hi $(id) 'x'"


def test_cluster_database_jobs_report_their_addresses(tmp_path: Path) -> None:
    exp = Experiment("clu", exp_path=str(tmp_path), launcher="slurm")
    db = exp.create_database(port=free_port_block(3), db_nodes=3, interface="auto")
    exp.start(db)
    try:
        for i in range(3):
            reported = (tmp_path / "orchestrator" / f"orchestrator_{i}.address").read_text()
            assert reported == db.get_address()[i]
        assert db.is_active()
        code = textwrap.dedent("""
            import numpy as np
            from sscontainer import Client
            c = Client()
            for i in range(20):
                c.put_tensor(f"k{i}", np.full(3, i))
            assert all((c.get_tensor(f"k{i}") == i).all() for i in range(20))
        """)
        model = exp.create_model("user", exp.create_run_settings("python3", ["-c", code]))
        exp.generate(model)
        exp.start(model)
        assert exp.get_status(model) == [Status.COMPLETED], (tmp_path / "user" / "user.err").read_text()
    finally:
        exp.stop(db)
    assert exp.get_status(db) == [Status.CANCELLED] * 3


def test_interrupted_driver_leaves_no_job(tmp_path: Path) -> None:
    import signal
    import time

    exp_path = tmp_path / "exp"
    driver = tmp_path / "driver.py"
    driver.write_text(textwrap.dedent(f"""
        from sscontainer import Experiment
        exp = Experiment("intr", exp_path={str(exp_path)!r}, launcher="slurm")
        m = exp.create_model("sleeper", exp.create_run_settings("sh", ["-c", "echo up; sleep 300"]))
        exp.generate(m)
        exp.start(m, block=True)
    """))
    proc = subprocess.Popen([PY, str(driver)])
    out = exp_path / "sleeper" / "sleeper.out"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (out.exists() and out.read_text().strip()):
        time.sleep(0.2)
    assert out.read_text().strip() == "up"
    manifest = (exp_path / ".sscontainer" / "manifest.json").read_text()
    job_id = manifest.split('"handle": "')[1].split('"')[0]
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=120) != 0
    state = subprocess.run(
        ["scontrol", "show", "job", "-o", job_id], capture_output=True, text=True
    ).stdout
    assert "JobState=CANCELLED" in state


@pytest.mark.parametrize("owner", ["nobody", "me-elsewhere"])
def test_stop_never_cancels_a_job_that_is_not_this_experiments(tmp_path: Path, owner: str) -> None:
    """A manifest naming another user's job, or one of ours running elsewhere (edited, or a
    job id reused), is refused on reconnect with one line: the job is left as it was."""
    import json

    exp_path = tmp_path / "exp"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # held: it stays in the queue as given, without running anything
    argv = ["sbatch", "--parsable", "--hold", "--job-name=victim", f"--chdir={elsewhere}",
            "--wrap", "sleep 600"]
    if owner == "nobody":
        require_service(os.geteuid() == 0, "root (to submit as nobody)", "run as root, as CI does")
        argv[1:1] = ["--uid=nobody", f"--chdir={exp_path / 'victim'}"]
    job = subprocess.run(argv, capture_output=True, text=True, check=True).stdout.strip()
    try:
        (exp_path / ".sscontainer").mkdir(parents=True)
        entry = {"name": "victim", "entity_type": "Model", "launcher": "slurm", "handle": job,
                 "start_time": 0.0, "cwd": str(exp_path / "victim"),
                 "out": str(exp_path / "victim" / "victim.out"),
                 "err": str(exp_path / "victim" / "victim.err")}
        (exp_path / ".sscontainer" / "manifest.json").write_text(
            json.dumps({"experiment": "e", "entries": [entry]}))
        stop = subprocess.run([PY, "-m", "sscontainer.cli", "stop", str(exp_path)],
                              capture_output=True, text=True, timeout=120)
        assert stop.returncode == 2 and "Traceback" not in stop.stderr, stop.stderr
        assert f"Slurm job {job} is" in stop.stderr and "nothing was cancelled" in stop.stderr
        with pytest.raises(LauncherError, match="not this experiment's"):
            Experiment.reconnect(str(exp_path))
        state = subprocess.run(["squeue", "-h", "-j", job, "-o", "%T|%u"], capture_output=True,
                               text=True, check=True).stdout.strip()
        assert state.startswith("PENDING|"), state  # untouched
    finally:
        subprocess.run(["scancel", job], check=False)
