"""The docker launcher against the real engine: models, orchestrator, colocated, sidecar."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import docker
import pytest

from sscontainer import Experiment, Status
from sscontainer.db.address import find_free_port
from sscontainer.specs.entities import DEFAULT_BASE
from tests.integration.docker_support import engine

__all__ = ["engine"]  # the fixture, used by name
pytestmark = pytest.mark.docker
PY = sys.executable
REPO = Path(__file__).resolve().parents[2]


def _containers(engine: docker.DockerClient, exp_path: Path) -> list[object]:
    label = f"sscontainer.exp_path={exp_path}"
    return list(engine.containers.list(all=True, filters={"label": label}))


def test_producer_consumer_with_docker(engine: docker.DockerClient, tmp_path: Path) -> None:
    src = tmp_path / "pc"
    shutil.copytree(REPO / "examples" / "producer_consumer", src, ignore=shutil.ignore_patterns("runs"))
    yaml_text = (src / "experiment.yaml").read_text().replace("port: 6379", f"port: {find_free_port()}")
    (src / "experiment.yaml").write_text(yaml_text)
    result = subprocess.run(
        [PY, "-m", "sscontainer.cli", "run", "--launcher", "docker", "--build", "--quiet", str(src / "experiment.yaml")],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    run = src / "runs" / "producer-consumer"
    out = (run / "consumer" / "consumer.out").read_text()
    assert "1: [5 6 7 8]" in out and "2: [1 2 3 4]" in out
    assert "| orchestrator_0 | DBNode" in result.stdout
    assert not _containers(engine, run)  # every container is gone at the end


def test_ml_example_runs_its_models_in_the_database_containers(
    engine: docker.DockerClient, tmp_path: Path
) -> None:
    """run_model on a docker database: the shard's container runs the worker, its image the
    backends the example's assets use (ONNX, TORCH)."""
    src = tmp_path / "ml"
    shutil.copytree(REPO / "examples" / "ml_inference", src, ignore=shutil.ignore_patterns("runs"))
    yaml_text = (src / "experiment.yaml").read_text().replace("port: 6780", f"port: {find_free_port()}")
    (src / "experiment.yaml").write_text(yaml_text)
    result = subprocess.run(
        [PY, "-m", "sscontainer.cli", "run", "--launcher", "docker", "--build", "--quiet",
         str(src / "experiment.yaml")],
        capture_output=True, text=True, timeout=1200,
    )
    run = src / "runs" / "ml-inference"
    err = (run / "inference" / "inference.err").read_text() if (run / "inference").exists() else ""
    assert result.returncode == 0, result.stderr[-3000:] + err[-2000:]
    import json

    out = json.loads((run / "inference" / "inference.out").read_text().strip().splitlines()[-1])
    assert out["negate_ok"] and out["timestwo_ok"] and out["scores_shape"] == [4, 10]
    assert "serving" in (run / "orchestrator" / "orchestrator_0" / "orchestrator_0.ml.log").read_text()
    assert not _containers(engine, run)


def test_crash_user_and_output(engine: docker.DockerClient, tmp_path: Path) -> None:
    exp = Experiment("dk", exp_path=str(tmp_path), launcher="docker")
    code = "import os, sys; print('uid', os.getuid(), os.getcwd()); print('bad', file=sys.stderr); sys.exit(9)"
    model = exp.create_model("crash", exp.create_run_settings("python3", ["-c", code]))
    exp.generate(model)
    exp.start(model)
    assert exp.get_status(model) == [Status.FAILED]
    assert exp.get_returncodes(model) == [9]
    out = (tmp_path / "crash" / "crash.out").read_text().split()
    assert out[0] == "uid" and out[1] != "0"  # never root in the container
    assert out[2] == str(tmp_path / "crash")  # the run dir, bound at the same path
    assert (tmp_path / "crash" / "crash.err").read_text() == "bad\n"


def test_colocated_container_and_sidecar(engine: docker.DockerClient, tmp_path: Path) -> None:
    exp = Experiment("colo", exp_path=str(tmp_path), launcher="docker")
    app = textwrap.dedent("""
        import os, sys, time
        import numpy as np
        from sscontainer import Client
        c = Client(cluster=False)
        c.put_tensor("shared", np.arange(4, dtype=np.int32))
        print(os.environ["SSDB"], flush=True)
        # wait until the sidecar has read the tensor and left a note
        for _ in range(600):
            if c.key_exists("sidecar_was_here"):
                sys.exit(0)
            time.sleep(0.1)
        sys.exit(4)
    """)
    model = exp.create_model("colo", exp.create_run_settings("python3", ["-c", app]))
    model.colocate_db_uds()
    exp.generate(model)
    exp.start(model, block=False)
    out = tmp_path / "colo" / "colo.out"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not out.read_text().strip():
        time.sleep(0.2)
    ssdb = out.read_text().split()[0]
    assert ssdb.startswith("unix:///run/sscontainer/")
    image = exp.build(model)["colo"]
    sidecar = textwrap.dedent(f"""
        import numpy as np
        from sscontainer import Client
        c = Client(address={ssdb!r}, cluster=False)
        assert (c.get_tensor("shared") == np.arange(4)).all()
        c.put_tensor("sidecar_was_here", np.ones(1))
        print("sidecar ok")
    """)
    logs = engine.containers.run(
        image, entrypoint=["python3", "-c", sidecar], remove=True, user="1000:1000",
        network_mode="host",
        mounts=[docker.types.Mount("/run/sscontainer", exp._planner.socket_volume(model), type="volume")],
    )
    assert b"sidecar ok" in logs
    exp.poll(interval=1, verbose=False)
    assert exp.get_status(model) == [Status.COMPLETED]


def test_interrupted_driver_leaves_no_container(engine: docker.DockerClient, tmp_path: Path) -> None:
    exp_path = tmp_path / "exp"
    driver = tmp_path / "driver.py"
    driver.write_text(textwrap.dedent(f"""
        from sscontainer import Experiment
        exp = Experiment("intr", exp_path={str(exp_path)!r}, launcher="docker")
        m = exp.create_model("sleeper", exp.create_run_settings(
            "python3", ["-c", "import time; print('up', flush=True); time.sleep(300)"]))
        exp.generate(m)
        exp.start(m, block=True)
    """))
    proc = subprocess.Popen([PY, str(driver)])
    out = exp_path / "sleeper" / "sleeper.out"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and not (out.exists() and out.read_text().strip()):
        time.sleep(0.2)
    assert out.read_text().strip() == "up"
    assert _containers(engine, exp_path)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) != 0
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _containers(engine, exp_path):
        time.sleep(0.2)
    assert not _containers(engine, exp_path)


def test_reconnect_stops_a_container(engine: docker.DockerClient, tmp_path: Path) -> None:
    exp_path = tmp_path / "exp"
    code = textwrap.dedent(f"""
        import os
        from sscontainer import Experiment
        exp = Experiment("rc", exp_path={str(exp_path)!r}, launcher="docker")
        m = exp.create_model("sleeper", exp.create_run_settings("python3", ["-c", "import time; time.sleep(300)"]))
        exp.generate(m)
        exp.start(m, block=False)
        os._exit(0)
    """)
    subprocess.run([PY, "-c", code], check=True, timeout=300)
    assert len(_containers(engine, exp_path)) == 1
    exp = Experiment.reconnect(str(exp_path))
    assert exp.jobs.running()
    exp.stop()
    assert [j.status for j in exp.jobs.all()] == [Status.CANCELLED]
    assert not _containers(engine, exp_path)
    assert not engine.networks.list(names=["ssc-rc"])  # the earlier driver's network too


def test_bridge_network_database_serves_smartredis_without_a_password(
    engine: docker.DockerClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import redis

    from tests.integration.db_fixtures import free_port_block

    exp = Experiment("br", exp_path=str(tmp_path), launcher="docker")
    db = exp.create_database(port=free_port_block(3), db_nodes=3)
    exp.start(db)
    try:
        assert exp._get_launcher().isolated({"sscontainer.experiment": "br"})  # type: ignore[attr-defined]
        hosts = {a.rsplit(":", 1)[0] for a in db.get_address()}
        assert "127.0.0.1" not in hosts and len(hosts) == 3  # one address per container
        assert not (tmp_path / ".sscontainer" / "orchestrator.password").exists()
        assert "SSDB_PASSWORD" not in db.client_env()
        assert "warning" not in capsys.readouterr().err  # the bridge is not beyond this host
        host, port = db.get_address()[0].rsplit(":", 1)
        assert redis.Redis(host=host, port=int(port), socket_timeout=5).ping()
        # the real SmartRedis client in the image, clustered as SR_DB_TYPE says
        import os

        timeout = os.environ.get("SR_SOCKET_TIMEOUT", "60000")  # the driver's value wins
        code = textwrap.dedent("""
            import os
            import numpy as np
            from smartredis import Client
            assert os.environ["SR_DB_TYPE"] == "Clustered", os.environ["SR_DB_TYPE"]
            assert os.environ["SR_SOCKET_TIMEOUT"] == EXPECTED, os.environ["SR_SOCKET_TIMEOUT"]
            c = Client(logger_name="user")
            for i in range(30):
                c.put_tensor(f"t{i}", np.full(2, i))
            assert all((c.get_tensor(f"t{i}") == i).all() for i in range(30))
        """).replace("EXPECTED", repr(timeout))
        model = exp.create_model("user", exp.create_run_settings("python3", ["-c", code]))
        exp.generate(model)
        exp.start(model)
        assert exp.get_status(model) == [Status.COMPLETED], (tmp_path / "user" / "user.err").read_text()
    finally:
        exp.stop(db)


def test_a_given_password_is_required_and_sent_by_sscontainers_client(
    engine: docker.DockerClient, tmp_path: Path
) -> None:
    import redis

    from tests.integration.db_fixtures import free_port_block

    exp = Experiment("pw", exp_path=str(tmp_path), launcher="docker")
    db = exp.create_database(port=free_port_block(1), password="opt-in-secret")
    exp.start(db)
    try:
        saved = tmp_path / ".sscontainer" / "orchestrator.password"
        assert saved.read_text() == "opt-in-secret" and saved.stat().st_mode & 0o777 == 0o600
        host, port = db.get_address()[0].rsplit(":", 1)
        with pytest.raises(redis.AuthenticationError):
            redis.Redis(host=host, port=int(port), socket_timeout=5).ping()
        code = textwrap.dedent("""
            import numpy as np
            from sscontainer import Client
            c = Client()
            c.put_tensor("t", np.arange(3))
            assert (c.get_tensor("t") == np.arange(3)).all()
        """)
        model = exp.create_model("user", exp.create_run_settings("python3", ["-c", code]))
        exp.start(model)
        assert exp.get_status(model) == [Status.COMPLETED], (tmp_path / "user" / "user.err").read_text()
    finally:
        exp.stop(db)


def test_host_network_on_request(engine: docker.DockerClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.integration.db_fixtures import free_port_block

    monkeypatch.setenv("SSCONTAINER_DOCKER_NETWORK", "host")
    exp = Experiment("hostnet", exp_path=str(tmp_path), launcher="docker")
    db = exp.create_database(port=free_port_block(1))
    exp.start(db)
    try:
        assert db.get_address()[0].startswith("127.0.0.1:")
        assert db.password is None
    finally:
        exp.stop(db)


def test_network_removed_when_the_experiment_stops(engine: docker.DockerClient, tmp_path: Path) -> None:
    from tests.integration.db_fixtures import free_port_block

    exp = Experiment("netgone", exp_path=str(tmp_path), launcher="docker")
    db = exp.create_database(port=free_port_block(1))
    exp.start(db)
    if not exp._get_launcher().isolated({"sscontainer.experiment": "netgone"}):  # type: ignore[attr-defined]
        pytest.skip("the engine could not make a bridge network: nothing to remove")
    assert engine.networks.list(names=["ssc-netgone"])
    exp.stop(db)
    assert not engine.networks.list(names=["ssc-netgone"])
    exp.start(db)  # a later start makes it again
    try:
        assert db.is_active()
    finally:
        exp.stop(db)


def test_stop_never_touches_a_container_it_did_not_start(
    engine: docker.DockerClient, tmp_path: Path
) -> None:
    """A manifest naming someone else's container (edited, or a reused id): left alone."""
    import json

    other = engine.containers.run(DEFAULT_BASE.ref, ["sleep", "60"], detach=True,
                                  labels={"purpose": "not-sscontainers"})
    try:
        (tmp_path / ".sscontainer").mkdir()
        entry = {"name": "victim", "entity_type": "Model", "launcher": "docker",
                 "handle": other.id, "start_time": 0.0, "cwd": str(tmp_path),
                 "out": str(tmp_path / "v.out"), "err": str(tmp_path / "v.err"),
                 "labels": {"sscontainer.experiment": "e"}}
        (tmp_path / ".sscontainer" / "manifest.json").write_text(
            json.dumps({"experiment": "e", "entries": [entry]}))
        done = subprocess.run([sys.executable, "-m", "sscontainer.cli", "stop", str(tmp_path)],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        other.reload()
        assert other.status == "running"
    finally:
        other.remove(force=True)
