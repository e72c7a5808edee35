"""The Experiment's data plane on the local launcher: real servers, real models."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest
import redis

from sscontainer import Experiment, Status
from sscontainer.db.address import interface_address
from sscontainer.errors import DatabaseError, SSConfigError
from tests.integration.db_fixtures import free_port_block, require_server

PY = sys.executable
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _server() -> None:
    require_server()


def _server_pids(exp_path: Path) -> list[int]:
    out = subprocess.run(["pgrep", "-f", str(exp_path)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def test_producer_consumer_example_python(tmp_path: Path) -> None:
    src = tmp_path / "pc"
    shutil.copytree(REPO / "examples" / "producer_consumer", src, ignore=shutil.ignore_patterns("runs"))
    text = (src / "experiment.py").read_text().replace("port=6379", f"port={free_port_block(1)}")
    (src / "experiment.py").write_text(text)
    result = subprocess.run([PY, str(src / "experiment.py")], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "1: [5 6 7 8]" in result.stdout and "2: [1 2 3 4]" in result.stdout
    assert not _server_pids(src / "runs")


def test_producer_consumer_example_yaml(tmp_path: Path) -> None:
    src = tmp_path / "pc"
    shutil.copytree(REPO / "examples" / "producer_consumer", src, ignore=shutil.ignore_patterns("runs"))
    text = (src / "experiment.yaml").read_text().replace("port: 6379", f"port: {free_port_block(1)}")
    (src / "experiment.yaml").write_text(text)
    result = subprocess.run(
        [PY, "-m", "sscontainer.cli", "run", str(src / "experiment.yaml")],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    out = (src / "runs" / "producer-consumer" / "consumer" / "consumer.out").read_text()
    assert "1: [5 6 7 8]" in out and "2: [1 2 3 4]" in out
    assert not _server_pids(src / "runs")


def test_entities_get_the_database_environment(tmp_path: Path) -> None:
    exp = Experiment("env", exp_path=str(tmp_path))
    port = free_port_block(1)
    db = exp.create_database(port=port)
    other = exp.create_database(port=free_port_block(1), db_identifier="second")
    exp.start(db, other)
    try:
        code = "import os; print(os.environ['SSDB'], os.environ['SR_DB_TYPE'], os.environ['SSDB_second'])"
        model = exp.create_model("m", exp.create_run_settings(PY, ["-c", code]))
        exp.generate(model)
        exp.start(model)
        ssdb, kind, second = (Path(model.path) / "m.out").read_text().split()
        assert ssdb == f"127.0.0.1:{port}" and kind == "Standalone"
        assert second == other.get_address()[0]
        assert db.is_active() and db.num_shards == 1
        db.set_max_clients(1234)
        db.set_db_conf("maxmemory-policy", "allkeys-lru")
    finally:
        exp.stop(db, other)
    assert not db.is_active()
    assert exp.get_status(db) == [Status.CANCELLED]


def test_cluster_serves_tensors_to_a_model(tmp_path: Path) -> None:
    exp = Experiment("clu", exp_path=str(tmp_path))
    db = exp.create_database(port=free_port_block(3), db_nodes=3)
    exp.start(db)
    try:
        assert len(db.get_address()) == 3
        code = textwrap.dedent("""
            import numpy as np
            from sscontainer import Client
            c = Client()
            for i in range(50):
                c.put_tensor(f"t{i}", np.arange(i + 1, dtype=np.float32))
            assert all((c.get_tensor(f"t{i}") == np.arange(i + 1)).all() for i in range(50))
            print("ok")
        """)
        model = exp.create_model("writer", exp.create_run_settings(PY, ["-c", code]))
        exp.generate(model)
        exp.start(model)
        assert exp.get_status(model) == [Status.COMPLETED], (Path(model.path) / "writer.err").read_text()
    finally:
        exp.stop(db)
    assert exp.get_status(db) == [Status.CANCELLED] * 3


def test_two_shards_rejected(tmp_path: Path) -> None:
    exp = Experiment("bad", exp_path=str(tmp_path))
    with pytest.raises(SSConfigError, match="3"):
        exp.create_database(db_nodes=2)


def test_busy_port_is_a_clear_error_with_the_server_log(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        exp = Experiment("busy", exp_path=str(tmp_path))
        db = exp.create_database(port=port)
        with pytest.raises(DatabaseError, match="(?i)address already in use"):
            exp.start(db)
    assert not db.is_active()
    assert not _server_pids(tmp_path)


def test_non_loopback_interface_serves_without_a_password_and_warns_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # SmartRedis cannot authenticate: the default must serve it; the exposure is said once
    ifaces = [name for _, name in socket.if_nameindex() if name != "lo" and _has_ipv4(name)]
    if not ifaces:
        pytest.skip("this host has no non-loopback interface to check the password rule on")
    exp = Experiment("open", exp_path=str(tmp_path))
    db = exp.create_database(interface=ifaces[0], port=free_port_block(1))
    assert not db.needs_password
    exp.start(db)
    try:
        (address,) = db.get_address()
        assert not address.startswith("127.")
        host, port = address.rsplit(":", 1)
        assert redis.Redis(host=host, port=int(port)).ping()  # no AUTH needed
        assert "SSDB_PASSWORD" not in db.client_env()
    finally:
        exp.stop(db)
    warnings_seen = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert len(warnings_seen) == 1 and address in warnings_seen[0]
    assert "without a password" in warnings_seen[0]


def test_a_given_password_is_required_and_silences_the_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ifaces = [name for _, name in socket.if_nameindex() if name != "lo" and _has_ipv4(name)]
    if not ifaces:
        pytest.skip("this host has no non-loopback interface to check the password rule on")
    exp = Experiment("closed", exp_path=str(tmp_path))
    db = exp.create_database(interface=ifaces[0], port=free_port_block(1), password="s3cret-pw")
    exp.start(db)
    try:
        host, port = db.get_address()[0].rsplit(":", 1)
        with pytest.raises(redis.AuthenticationError):
            redis.Redis(host=host, port=int(port)).ping()
        assert redis.Redis(host=host, port=int(port), password="s3cret-pw").ping()
        assert db.client_env()["SSDB_PASSWORD"] == "s3cret-pw"
    finally:
        exp.stop(db)
    assert "warning" not in capsys.readouterr().err


def _has_ipv4(ifname: str) -> bool:
    try:
        interface_address(ifname)
    except SSConfigError:
        return False
    return True


def test_unknown_interface_is_refused_at_creation(tmp_path: Path) -> None:
    exp = Experiment("iface", exp_path=str(tmp_path))
    with pytest.raises(SSConfigError, match="interfaces on this host"):
        exp.create_database(interface="no-such-if0")


@pytest.mark.parametrize("transport", ["uds", "tcp"])
def test_colocated_model_uses_its_own_server(tmp_path: Path, transport: str) -> None:
    exp = Experiment("colo", exp_path=str(tmp_path))
    code = textwrap.dedent("""
        import os, sys
        import numpy as np
        from sscontainer import Client
        c = Client(cluster=False)
        c.put_tensor("x", np.ones((2, 3), dtype=np.int16))
        assert (c.get_tensor("x") == 1).all()
        print(os.environ["SSDB"])
        sys.exit(int(sys.argv[1]))
    """)
    model = exp.create_model("colo", exp.create_run_settings(PY, ["-c", code, "5"]))
    if transport == "uds":
        model.colocate_db_uds(socket_permissions=750, maxclients=100)
    else:
        model.colocate_db_tcp(port=free_port_block(1), maxclients=100)
    exp.generate(model)
    exp.start(model)
    assert exp.get_status(model) == [Status.FAILED]
    assert exp.get_returncodes(model) == [5]  # the app's exit code, passed on
    ssdb = (Path(model.path) / "colo.out").read_text().split()[-1]
    if transport == "uds":
        assert ssdb.startswith("unix:///")
        assert not os.path.exists(ssdb[len("unix://"):])
    else:
        assert ssdb.startswith("127.0.0.1:")
    assert (Path(model.path) / "colo.colocated.json").exists()
    assert not _server_pids(tmp_path)


def test_colocate_db_is_deprecated(tmp_path: Path) -> None:
    exp = Experiment("dep", exp_path=str(tmp_path))
    model = exp.create_model("m", exp.create_run_settings(PY))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.colocate_db(port=6780)
    assert any(issubclass(w.category, DeprecationWarning) for w in caught)
    assert model.colocated is not None and model.colocated.transport == "tcp"
    with pytest.raises(SSConfigError, match="already"):
        model.colocate_db_uds()


def test_colocated_db_identifier_sets_suffixed_variables(tmp_path: Path) -> None:
    exp = Experiment("colo-id", exp_path=str(tmp_path))
    code = "import os; print(os.environ['SSDB_mine'] == os.environ['SSDB'], os.environ['SR_DB_TYPE_mine'])"
    model = exp.create_model("m", exp.create_run_settings(PY, ["-c", code]))
    model.colocate_db_uds(db_identifier="mine")
    exp.generate(model)
    exp.start(model)
    assert (Path(model.path) / "m.out").read_text().split() == ["True", "Standalone"]
