"""What broke across hosts (issue 11), each on the real multi-node cluster of slurm-multinode.sh.

Every node is its own network namespace: 127.0.0.1 on n2 is not n1, the login node reaches
the nodes only at their hsn0 addresses, and `login2` is a login node without hsn0.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sscontainer import Experiment, Status
from sscontainer.db.launch import wait_shard_ready
from sscontainer.db.local import LocalDatabase
from sscontainer.errors import DatabaseError, SSConfigError
from sscontainer.jobs import Job
from sscontainer.launchers.slurm import SlurmLauncher
from sscontainer.launchers.step import Step
from tests.conftest import require_service
from tests.integration.db_fixtures import free_port_block, require_server
from tests.integration.slurm_support import MN_HOW, MultiNode, multinode, on_the_nodes

pytestmark = pytest.mark.slurm
PY = sys.executable
CLIENT_APP = textwrap.dedent("""
    import numpy as np
    from sscontainer import Client
    c = Client()
    c.put_tensor("t", np.arange(4))
    assert (c.get_tensor("t") == np.arange(4)).all()
    print("ok")
""")


@pytest.fixture
def cluster(monkeypatch: pytest.MonkeyPatch) -> MultiNode:
    found = multinode()
    require_service(found is not None, "the multi-node Slurm cluster", MN_HOW)
    assert found is not None
    require_server()
    monkeypatch.setenv("SLURM_CONF", found.conf)
    return found


def _address(cluster: MultiNode, node: str, port: int) -> str:
    return f"{cluster.addresses[node]}:{port}"


# (1) a loopback database that would have to serve other nodes ------------------------------
def test_loopback_database_is_refused_before_anything_is_submitted(
    cluster: MultiNode, tmp_path: Path
) -> None:
    exp = on_the_nodes(Experiment("lo", exp_path=str(tmp_path), launcher="slurm"))
    db = exp.create_database(port=free_port_block(1), interface="lo")
    with pytest.raises(SSConfigError, match=r"interface='auto'.*'hsn0'|'hsn0'.*interface='auto'"):
        exp.start(db)
    assert not list(tmp_path.rglob("*.sbatch"))  # nothing was submitted


def test_cli_shows_the_node_job_and_log_of_a_shard_that_failed(
    cluster: MultiNode, tmp_path: Path
) -> None:
    (tmp_path / "exp.yaml").write_text(textwrap.dedent(f"""
        name: badif
        launcher: slurm
        database: {{port: {free_port_block(1)}, interface: ib9}}
        models:
          - {{name: m, exe: {PY}, args: ["-c", "pass"]}}
    """))
    done = subprocess.run(
        [PY, "-m", "sscontainer.cli", "run", "-q", str(tmp_path / "exp.yaml")],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 2
    assert re.search(r"error: database shard orchestrator_0 \(job \d+ on n\d\)", done.stderr), (
        done.stderr
    )
    # the node's own evidence, on lines of their own: its interfaces, not the login node's
    assert re.search(r"sscontainer: .*network interface 'ib9' has no IPv4 address", done.stderr)
    assert "interfaces on this host: lo, hsn0" in done.stderr


# (2) the answering server is this launch's own -----------------------------------------------
def test_a_stranger_on_the_reported_address_is_not_taken_for_the_shard(
    cluster: MultiNode, tmp_path: Path
) -> None:
    launcher = SlurmLauncher(poll_interval=0.2)
    step = Step(name="standin", entity_type="DBNode", argv=("sleep", "120"), cwd=str(tmp_path),
                out=str(tmp_path / "s.out"), err=str(tmp_path / "s.err"))
    job = Job(step, launcher.start(step), launcher)  # a real shard job that serves nothing
    try:
        with LocalDatabase() as stranger:  # someone else's server where the driver looks
            with pytest.raises(DatabaseError, match="not this launch's") as info:
                wait_shard_ready(job, stranger.addresses[0], None, 3, token="feed-0")
        assert f"job {job.handle}" in str(info.value)
    finally:
        launcher.stop(job.handle, grace=1)


# (3) interfaces are checked on the node where the shard runs ----------------------------------
def test_driver_on_a_login_node_without_the_nodes_interface(cluster: MultiNode, tmp_path: Path) -> None:
    driver = tmp_path / "driver.py"
    driver.write_text(textwrap.dedent(f"""
        from sscontainer import Experiment, Status
        exp = Experiment("login2", exp_path={str(tmp_path / "exp")!r}, launcher="slurm")
        try:  # plain processes on the nodes (see slurm_support.on_the_nodes)
            from sscontainer.settings.containers import ContainerSettings
            exp.default_container = ContainerSettings(runtime="none")
        except ValueError:
            pass
        db = exp.create_database(port={free_port_block(1)}, interface="hsn0")
        exp.start(db)
        try:
            m = exp.create_model("m", exp.create_run_settings({PY!r}, ["-c", {CLIENT_APP!r}]))
            exp.generate(m)
            exp.start(m)
            assert exp.get_status(m) == [Status.COMPLETED], open(m.path + "/m.err").read()
            print(db.get_address()[0])
        finally:
            exp.stop(db)
    """))
    done = cluster.on("login2", [PY, str(driver)])
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().startswith(cluster.addresses["n1"].rsplit(".", 1)[0] + ".")


def test_a_node_without_the_interface_says_so_with_its_interfaces(
    cluster: MultiNode, tmp_path: Path
) -> None:
    exp = on_the_nodes(Experiment("noif", exp_path=str(tmp_path), launcher="slurm"))
    db = exp.create_database(port=free_port_block(1), interface="ib9", hosts="n2")
    with pytest.raises(DatabaseError) as info:
        exp.start(db)
    text = str(info.value)
    assert re.search(r"orchestrator_0 \(job \d+ on n2\)", text), text
    assert "network interface 'ib9' has no IPv4 address here" in text
    assert "interfaces on this host: lo, hsn0" in text


# (4) hosts place shards ------------------------------------------------------------------------
def test_hosts_place_each_shard(cluster: MultiNode, tmp_path: Path) -> None:
    port = free_port_block(3)
    exp = on_the_nodes(Experiment("hosts", exp_path=str(tmp_path), launcher="slurm"))
    db = exp.create_database(port=port, db_nodes=3, interface="hsn0", hosts=["n3", "n3", "n1"])
    exp.start(db)
    try:
        assert db.get_address() == [
            _address(cluster, "n3", port), _address(cluster, "n3", port + 1),
            _address(cluster, "n1", port + 2),
        ]
        assert db.is_active()
    finally:
        exp.stop(db)


# (5) a model's host list reaches the allocation it runs in ----------------------------------
def test_run_settings_host_list_is_the_allocation(cluster: MultiNode, tmp_path: Path) -> None:
    exp = on_the_nodes(Experiment("place", exp_path=str(tmp_path), launcher="slurm"))
    models = []
    for node in ("n4", "n3"):
        rs = exp.create_run_settings("hostname")
        rs.set_hostlist(node)
        models.append(exp.create_model(f"on_{node}", rs))
    exp.generate(*models)
    exp.start(*models)
    for model, node in zip(models, ("n4", "n3"), strict=True):
        err = Path(model.path, f"{model.name}.err").read_text()
        assert exp.get_status(model) == [Status.COMPLETED], err
        assert Path(model.path, f"{model.name}.out").read_text().strip() == node


# (6) a cluster database starts again in the same path ----------------------------------------
@pytest.mark.parametrize("launcher", ["slurm", "local"])
def test_cluster_database_restarts_in_the_same_path(
    launcher: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_server()
    kwargs: dict[str, object] = {}
    if launcher == "slurm":
        found = multinode()
        require_service(found is not None, "the multi-node Slurm cluster", MN_HOW)
        assert found is not None
        monkeypatch.setenv("SLURM_CONF", found.conf)
        kwargs = {"interface": "hsn0", "hosts": ["n1", "n2", "n3"]}
    exp = on_the_nodes(Experiment("again", exp_path=str(tmp_path), launcher=launcher))
    db = exp.create_database(port=free_port_block(3), db_nodes=3, **kwargs)
    for _ in range(2):
        exp.start(db)
        try:
            assert db.is_active()
        finally:
            exp.stop(db)


# (7) no secret in a file another user can read -------------------------------------------------
def test_a_password_is_only_in_private_files(cluster: MultiNode, tmp_path: Path) -> None:
    secret = "pw-" + os.urandom(12).hex()
    exp = on_the_nodes(Experiment("secret", exp_path=str(tmp_path), launcher="slurm"))
    db = exp.create_database(port=free_port_block(1), interface="hsn0", password=secret)
    exp.start(db)
    try:
        model = exp.create_model("m", exp.create_run_settings(PY, ["-c", CLIENT_APP]))
        exp.generate(model)
        exp.start(model)
        assert exp.get_status(model) == [Status.COMPLETED], Path(model.path, "m.err").read_text()
    finally:
        exp.stop(db)
    holding = [p for p in tmp_path.rglob("*") if p.is_file() and secret in p.read_text(errors="replace")]
    assert any(p.suffix == ".sbatch" for p in holding)  # the model's script exports it
    readable = [str(p) for p in holding if stat.S_IMODE(p.stat().st_mode) & 0o077]
    assert not readable, f"the password is in files others can read: {readable}"
