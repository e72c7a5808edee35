"""Experiments under Slurm with real Apptainer: every entity in `apptainer exec`.

The images are built for real (once, then found by their content hash in the shared
cache of ``apptainer_support``); the cluster is the one ``apptainer_support.cluster``
names.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from sscontainer import Experiment, Status
from sscontainer.db.address import find_free_port
from sscontainer.entities.model import Model
from sscontainer.launchers.slurm import SlurmLauncher
from sscontainer.launchers.step import Mount, Step
from sscontainer.settings.containers import ContainerSettings
from sscontainer.specs import SOCKET_DIR
from tests.conftest import require_service
from tests.integration.apptainer_support import (
    HOSTILE,
    TEST_USER,
    cluster,
    image_cache,
    jobs_of,
    processes_with,
    require_apptainer,
    require_docker_base,
    user_exists,
)

pytestmark = [pytest.mark.slurm, pytest.mark.apptainer, pytest.mark.timeout(900)]
REPO = Path(__file__).resolve().parents[2]
PY = sys.executable
__all__ = ["image_cache"]  # the fixture, used by name


@pytest.fixture(autouse=True)
def _services(image_cache: Path) -> Iterator[None]:
    require_apptainer()
    cluster()
    require_docker_base()
    yield


def cli(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PY, "-m", "sscontainer.cli", *args], capture_output=True, text=True, timeout=timeout
    )


def example(name: str, dest: Path, port_key: str) -> Path:
    """A copy of ``examples/<name>`` with a free database port; returns its YAML."""
    shutil.copytree(REPO / "examples" / name, dest, ignore=shutil.ignore_patterns("runs"))
    yaml = dest / "experiment.yaml"
    yaml.write_text(yaml.read_text().replace(port_key, f"port: {find_free_port()}"))
    return yaml


def scripts(run: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in run.rglob("*.sbatch")}


def test_producer_consumer_example_runs_every_entity_in_apptainer(tmp_path: Path) -> None:
    yaml = example("producer_consumer", tmp_path / "pc", "port: 6379")
    done = cli("run", str(yaml), "--launcher", "slurm", "--build", "-q")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    run = tmp_path / "pc" / "runs" / "producer-consumer"
    out = (run / "consumer" / "consumer.out").read_text()
    assert "1: [5 6 7 8]" in out and "2: [1 2 3 4]" in out
    found = scripts(run)
    assert set(found) == {"orchestrator_0.sbatch", "producer_1.sbatch", "producer_2.sbatch",
                          "consumer.sbatch"}
    for name, text in found.items():
        assert "apptainer exec --no-eval" in text and ".sif " in text, name
        assert sys.prefix not in text, f"{name} names a host interpreter: {text}"
    assert "python3 consumer.py" in found["consumer.sbatch"]
    assert "python3 -m sscontainer.db.shard" in found["orchestrator_0.sbatch"]
    assert not jobs_of(run)  # the database job is gone too


def test_ensemble_members_run_in_apptainer_as_one_job_array(tmp_path: Path) -> None:
    exp = Experiment("arr", exp_path=str(tmp_path / "exp"), launcher="slurm")
    conf = tmp_path / "in.txt"
    conf.write_text("A=;A;")
    code = "import os, sys; print(open('in.txt').read(), os.getcwd(), sys.executable)"
    ens = exp.create_ensemble(
        "sweep", params={"A": [1, 2, 3]},
        run_settings=exp.create_run_settings("python3", ["-c", code]),
        batch_settings=exp.create_batch_settings(nodes=1, time="00:05:00"),
    )
    ens.attach_generator_files(to_configure=[str(conf)])
    exp.generate(ens)
    exp.start(ens)
    assert exp.get_status(ens) == [Status.COMPLETED] * 3
    array = (tmp_path / "exp" / "sweep" / "sweep.sbatch").read_text()
    assert array.count("apptainer exec --no-eval") == 3 and "--array=0-2" in array
    for i, member in enumerate(ens):
        text, cwd, exe = (Path(member.path) / f"{member.name}.out").read_text().split()
        assert (text, cwd) == (f"A={i + 1}", f"/work/{member.name}")
        assert exe.startswith("/opt/sscontainer/venv/")  # the image's interpreter


def _failing_model(
    exp: Experiment, name: str, batch_args: dict[str, str | None], runtime: str
) -> Model:
    code = textwrap.dedent("""
        import os, sys
        with open("env.txt", "w") as handle:
            handle.write(os.environ["HOSTILE"])
        print(os.getuid(), os.getcwd(), sys.executable, flush=True)
        print("boom: exiting with 7", file=sys.stderr)
        sys.exit(7)
    """)
    batch = exp.create_batch_settings(batch_args=batch_args) if batch_args else None
    container = ContainerSettings(runtime=runtime) if runtime != "apptainer" else None
    rs = exp.create_run_settings("python3", ["-c", code], env_vars={"HOSTILE": HOSTILE},
                                 container=container)
    return exp.create_model(name, rs, batch_settings=batch)


@pytest.mark.parametrize(
    ("as_user", "runtime"),
    [(False, "apptainer"), (True, "apptainer"), (False, "singularity")],
    ids=["root", "ordinary-user", "singularity-name"],
)
def test_hostile_env_arrives_byte_exact_and_failure_is_reported(
    tmp_path: Path, as_user: bool, runtime: str
) -> None:
    require_service(shutil.which(runtime) is not None, runtime, "its name on PATH (.ci/apptainer-up.sh)")
    batch_args: dict[str, str | None] = {}
    root = tmp_path
    if as_user:
        require_service(user_exists(), f"the test user {TEST_USER}", ".ci/apptainer-up.sh makes it")
        # Slurm runs this job as the user (sbatch --uid): Apptainer runs unprivileged, in a
        # user namespace. pytest's tmp_path is private to root, so use a directory it can enter.
        root = Path(tempfile_dir())
        batch_args = {"uid": TEST_USER, "gid": TEST_USER}
    try:
        exp = Experiment("envexp", exp_path=str(root / "exp"), launcher="slurm")
        model = _failing_model(exp, "hostile", batch_args, runtime)
        exp.generate(model)
        run = root / "exp" / "hostile"
        if as_user:
            shutil.chown(run, TEST_USER, TEST_USER)
        exp.start(model)
        assert exp.get_status(model) == [Status.FAILED]
        assert exp.get_returncodes(model) == [7]
        assert "boom: exiting with 7" in (run / "hostile.err").read_text()
        assert (run / "env.txt").read_text() == HOSTILE  # byte-exact, nothing evaluated
        uid, cwd, exe = (run / "hostile.out").read_text().split()
        assert cwd == "/work/hostile" and exe.startswith("/opt/sscontainer/venv/")
        assert (uid == "0") != as_user and (not as_user or uid == str(_uid(TEST_USER)))
        assert not Path("/tmp/pwned").exists()
        script = (run / "hostile.sbatch").read_text()
        assert f"{runtime} exec --no-eval" in script
        assert f"{runtime.upper()}ENV_HOSTILE=" in script  # the value travels verbatim
    finally:
        if as_user:
            shutil.rmtree(root, ignore_errors=True)


def tempfile_dir() -> str:
    import tempfile

    path = tempfile.mkdtemp(prefix="ssc-appt-user-", dir="/var/tmp")
    Path(path).chmod(0o755)
    return path


def _uid(name: str) -> int:
    import pwd

    return pwd.getpwnam(name).pw_uid


def test_colocated_model_socket_reached_from_a_second_apptainer_exec(tmp_path: Path) -> None:
    exp = Experiment("colo", exp_path=str(tmp_path / "exp"), launcher="slurm")
    app = textwrap.dedent("""
        import os, sys, time
        import numpy as np
        from sscontainer import Client
        c = Client(cluster=False)
        c.put_tensor("shared", np.arange(4, dtype=np.int32))
        print(os.environ["SSDB"], flush=True)
        for _ in range(1200):  # until the sidecar has read the tensor and left a note
            if c.key_exists("sidecar_was_here"):
                sys.exit(0)
            time.sleep(0.1)
        sys.exit(4)
    """)
    model = exp.create_model("colo", exp.create_run_settings("python3", ["-c", app]))
    model.colocate_db_uds()
    exp.generate(model)
    exp.start(model, block=False)
    try:
        out = tmp_path / "exp" / "colo" / "colo.out"
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not (out.exists() and out.read_text().strip()):
            assert not exp.finished(model), (tmp_path / "exp" / "colo" / "colo.err").read_text()
            time.sleep(0.5)
        ssdb = out.read_text().split()[0]
        assert ssdb.startswith(f"unix://{SOCKET_DIR}/")
        socket_dir = tmp_path / "exp" / ".sscontainer" / "sockets" / "colo"
        assert (socket_dir / ssdb.rsplit("/", 1)[1]).is_socket()  # the server's, on the host
        assert socket_dir.stat().st_mode & 0o777 == 0o700
        image = exp.build(model)["colo"]
        assert image.endswith(".sif")
        job = exp.jobs.get("colo")
        assert job is not None
        node = subprocess.run(["squeue", "-h", "-j", job.handle, "-o", "%N"],
                              capture_output=True, text=True).stdout.strip()
        sidecar = textwrap.dedent(f"""
            import numpy as np
            from sscontainer import Client
            c = Client(address={ssdb!r}, cluster=False)
            assert (c.get_tensor("shared") == np.arange(4)).all()
            c.put_tensor("sidecar_was_here", np.ones(1))
            print("sidecar ok")
        """)
        side_dir = tmp_path / "sidecar"
        step = Step(
            name="sidecar", entity_type="Model",
            argv=("srun", "--ntasks=1", "python3", "-c", sidecar),
            cwd=str(side_dir), out=str(side_dir / "sidecar.out"), err=str(side_dir / "sidecar.err"),
            image=image, runtime="apptainer", mounts=(Mount(str(socket_dir), SOCKET_DIR),),
            batch_args=(f"--nodelist={node}",) if node else (),
        )
        launcher = SlurmLauncher(poll_interval=0.2)
        handle = launcher.start(step)
        deadline = time.monotonic() + 300
        while not launcher.wait([handle], timeout=5):
            assert time.monotonic() < deadline, "the sidecar job did not end"
        assert launcher.status(handle).status == Status.COMPLETED, (side_dir / "sidecar.err").read_text()
        assert (side_dir / "sidecar.out").read_text() == "sidecar ok\n"
        exp.poll(interval=1, verbose=False)
        assert exp.get_status(model) == [Status.COMPLETED], (tmp_path / "exp" / "colo" / "colo.err").read_text()
    finally:
        exp.stop()
    assert not jobs_of(tmp_path)


def test_ctrl_c_leaves_no_job_and_no_container_process(tmp_path: Path) -> None:
    token = f"ssc-sleeper-{uuid.uuid4().hex[:12]}"
    exp_path = tmp_path / "exp"
    driver = tmp_path / "driver.py"
    driver.write_text(textwrap.dedent(f"""
        from sscontainer import Experiment
        exp = Experiment("intr", exp_path={str(exp_path)!r}, launcher="slurm")
        m = exp.create_model("sleeper", exp.create_run_settings(
            "sh", ["-c", "echo up; exec sleep 600", {token!r}]))
        exp.generate(m)
        exp.start(m, block=True)
    """))
    proc = subprocess.Popen([PY, str(driver)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = exp_path / "sleeper" / "sleeper.out"
    deadline = time.monotonic() + 600  # the first run may build the model image
    while time.monotonic() < deadline and not (out.exists() and out.read_text().strip()):
        assert proc.poll() is None, proc.communicate()[1].decode()[-3000:]
        time.sleep(0.5)
    assert out.read_text().strip() == "up"
    assert processes_with(token), "the containerized sleeper is not running"
    manifest = json.loads((exp_path / ".sscontainer" / "manifest.json").read_text())
    job_id = manifest["entries"][-1]["handle"]
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=180) != 0
    assert not jobs_of(exp_path)
    state = subprocess.run(["scontrol", "show", "job", "-o", str(job_id)],
                           capture_output=True, text=True).stdout
    assert "JobState=CANCELLED" in state
    deadline = time.monotonic() + 30  # the job's processes are gone once Slurm says so
    while processes_with(token) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not processes_with(token)


# What keeps the ML example from finishing under Slurm today, outside the Apptainer path
# (the module/client work in progress): the image's redis-py 4.3 (Debian's) needs an
# argument sscontainer's ML client does not pass, and no inference worker runs beside a
# Slurm shard yet (ml/hooks.py).
KNOWN_ML_GAPS = ("get_connection() missing 1 required positional argument",
                 "DUE TO TIME LIMIT")


def test_ml_example_runs_its_database_and_model_in_apptainer(tmp_path: Path) -> None:
    import yaml as pyyaml

    path = example("ml_inference", tmp_path / "ml", "port: 6780")
    doc = pyyaml.safe_load(path.read_text())
    doc["models"][0]["batch"] = {"time": "00:03:00"}  # a stuck request cannot hang CI
    path.write_text(pyyaml.safe_dump(doc))
    done = cli("run", str(path), "--launcher", "slurm", "--build", "-q")
    run = tmp_path / "ml" / "runs" / "ml-inference"
    found = scripts(run)
    assert set(found) == {"orchestrator_0.sbatch", "inference.sbatch"}, done.stderr[-3000:]
    for name, text in found.items():
        assert "apptainer exec --no-eval" in text and ".sif " in text, name
    assert not jobs_of(run)
    err = (run / "inference" / "inference.err").read_text()
    if done.returncode != 0:
        gap = next((g for g in KNOWN_ML_GAPS if g in err), None)
        if gap is not None:
            pytest.xfail(f"the ML client/worker under Slurm is not there yet: {gap!r}")
    assert done.returncode == 0, done.stderr[-2000:] + err[-2000:]
    result = json.loads((run / "inference" / "inference.out").read_text().strip().splitlines()[-1])
    assert result["negate_ok"] and result["timestwo_ok"] and result["scores_shape"] == [4, 10]
