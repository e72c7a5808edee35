"""The colocated supervisor as a real subprocess: ``python -m sscontainer.db.colocated``."""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sscontainer.db.address import find_free_port
from sscontainer.db.colocated_config import ColocatedConfig
from sscontainer.db.pinning import allowed_cpus
from tests.integration.db_fixtures import process_gone, require_server, short_tmpdir

# The application: puts and gets through its own server, records the server's pid,
# then does what argv[1] says.
APP = textwrap.dedent("""
    import os, sys, time, signal
    import numpy as np
    from sscontainer.client import Client

    workdir = os.environ["APP_DIR"]
    client = Client(cluster=False)
    assert os.environ["SR_DB_TYPE"] == "Standalone"
    rank = os.environ.get("RANK", "0")
    data = np.arange(10, dtype=np.float32) * int(rank)
    client.put_tensor("r" + rank, data)
    assert (client.get_tensor("r" + rank) == data).all()
    ssdb = os.environ["SSDB"]
    info = client.get_db_node_info([ssdb])[0]["Server"]
    with open(os.path.join(workdir, "server-" + rank), "w") as f:
        f.write(str(info["process_id"]))
    with open(os.path.join(workdir, "ssdb-" + rank), "w") as f:
        f.write(ssdb + "\\n" + str(client.config_get("maxclients", ssdb)["maxclients"]))
    action = sys.argv[1]
    if action == "exit":
        sys.exit(int(sys.argv[2]))
    if action == "crash":
        raise RuntimeError("the application crashed")
    if action == "wait-signal":
        def on_term(signum, frame):
            sys.exit(7)
        if sys.argv[2] == "handle":
            signal.signal(signal.SIGTERM, on_term)
        open(os.path.join(workdir, "running-" + rank), "w").close()
        time.sleep(60)
    if action == "wait-file":  # use the shared server after the other rank left
        target = os.path.join(workdir, sys.argv[2])
        while not os.path.exists(target):
            time.sleep(0.05)
        other = client.get_tensor("r" + sys.argv[3])
        assert (other == np.arange(10, dtype=np.float32) * int(sys.argv[3])).all()
        sys.exit(0)
""")


@pytest.fixture
def workdir() -> Iterator[Path]:
    require_server()
    path = Path(short_tmpdir())  # short: the Unix socket lives here
    (path / "app.py").write_text(APP)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _config(workdir: Path, **kwargs: object) -> str:
    cfg = ColocatedConfig(**kwargs)  # type: ignore[arg-type]
    return cfg.save(str(workdir / "colo.json"))


def _start(workdir: Path, config: str, *app_args: str, rank: str = "0") -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SSDB", "SR_DB_TYPE", "SSKEYOUT")}
    env.update(APP_DIR=str(workdir), RANK=rank)
    argv = [sys.executable, "-m", "sscontainer.db.colocated", "--config", config, "--",
            sys.executable, str(workdir / "app.py"), *app_args]
    return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _finish(proc: subprocess.Popen[str]) -> tuple[int, str]:
    _, err = proc.communicate(timeout=60)
    return proc.returncode, err


def _server_pid(workdir: Path, rank: str = "0") -> int:
    return int((workdir / f"server-{rank}").read_text())


def _wait_for(path: Path) -> None:
    deadline = time.monotonic() + 30
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


@pytest.mark.timeout(90)
def test_uds_supervisor_exit_code_permissions_and_cleanup(workdir: Path) -> None:
    sock = str(workdir / "db.sock")
    config = _config(workdir, transport="uds", unix_socket=sock, socket_permissions=0o750,
                     server_conf={"maxclients": "321"}, custom_pinning=[])
    proc = _start(workdir, config, "wait-file", "go", "0")
    _wait_for(workdir / "server-0")
    assert stat.S_ISSOCK(os.stat(sock).st_mode)
    assert stat.S_IMODE(os.stat(sock).st_mode) == 0o750
    (workdir / "go").touch()
    code, err = _finish(proc)
    assert code == 0, err
    ssdb, maxclients = (workdir / "ssdb-0").read_text().splitlines()
    assert ssdb == "unix://" + sock
    assert maxclients == "321"
    assert process_gone(_server_pid(workdir))
    assert not os.path.exists(sock)


@pytest.mark.timeout(90)
def test_tcp_supervisor_passes_the_exit_code_on(workdir: Path) -> None:
    port = find_free_port()
    config = _config(workdir, transport="tcp", port=port, custom_pinning=[])
    code, err = _finish(_start(workdir, config, "exit", "3"))
    assert code == 3, err
    assert (workdir / "ssdb-0").read_text().splitlines()[0] == f"127.0.0.1:{port}"
    assert process_gone(_server_pid(workdir))
    assert not os.path.exists(ColocatedConfig.load(config).lock_path)


@pytest.mark.timeout(90)
def test_crashing_application_still_stops_the_server(workdir: Path) -> None:
    config = _config(workdir, unix_socket=str(workdir / "db.sock"), custom_pinning=[])
    code, err = _finish(_start(workdir, config, "crash"))
    assert code == 1
    assert "the application crashed" in err
    assert process_gone(_server_pid(workdir))


@pytest.mark.timeout(90)
@pytest.mark.parametrize("how, expected", [("handle", 7), ("default", 128 + signal.SIGTERM)])
def test_sigterm_is_forwarded_to_the_application(workdir: Path, how: str, expected: int) -> None:
    config = _config(workdir, unix_socket=str(workdir / "db.sock"), custom_pinning=[])
    proc = _start(workdir, config, "wait-signal", how)
    _wait_for(workdir / "running-0")
    proc.send_signal(signal.SIGTERM)
    code, err = _finish(proc)
    assert code == expected, err
    assert process_gone(_server_pid(workdir))


@pytest.mark.timeout(120)
def test_two_ranks_share_one_server(workdir: Path) -> None:
    sock = str(workdir / "db.sock")
    config = _config(workdir, unix_socket=sock, custom_pinning=[], debug=True)
    # rank 1 leaves once rank 2 is running (and has read rank 2's tensor) ...
    first = _start(workdir, config, "wait-file", "server-2", "2", rank="1")
    # ... and rank 2 reads rank 1's tensor after rank 1 left
    second = _start(workdir, config, "wait-file", "first-left", "1", rank="2")
    code, err = _finish(first)
    assert code == 0, err
    _wait_for(workdir / "server-2")
    shared = _server_pid(workdir, "1")
    assert _server_pid(workdir, "2") == shared  # one server for both ranks
    assert not process_gone(shared)  # still up: rank 2 has not left
    (workdir / "first-left").touch()  # rank 2 now reads rank 1's tensor
    code, err = _finish(second)
    assert code == 0, err
    assert process_gone(shared)
    assert not os.path.exists(sock)
    assert sorted(os.listdir(workdir)) == [  # no socket, lock or state file left
        "app.py", "colo.json", "first-left", "server-1", "server-2", "ssdb-1", "ssdb-2",
    ]


@pytest.mark.timeout(60)
def test_pinning_outside_the_allowed_cpus_is_a_config_error(workdir: Path) -> None:
    outside = max(allowed_cpus()) + 1
    config = _config(workdir, unix_socket=str(workdir / "db.sock"), custom_pinning=[outside])
    code, err = _finish(_start(workdir, config, "exit", "0"))
    assert code == 2
    assert "configuration error" in err and "allowed CPUs" in err
    assert not (workdir / "server-0").exists()  # the application never ran


@pytest.mark.timeout(60)
def test_the_server_is_pinned(workdir: Path) -> None:
    cpu = max(allowed_cpus())
    config = _config(workdir, unix_socket=str(workdir / "db.sock"), custom_pinning=str(cpu))
    proc = _start(workdir, config, "wait-file", "go", "0")
    _wait_for(workdir / "server-0")
    pid = _server_pid(workdir)
    threads = os.listdir(f"/proc/{pid}/task")
    assert all(os.sched_getaffinity(int(tid)) == {cpu} for tid in threads)
    (workdir / "go").touch()
    code, err = _finish(proc)
    assert code == 0, err


@pytest.mark.timeout(60)
def test_missing_application_and_bad_command_line(workdir: Path) -> None:
    config = _config(workdir, unix_socket=str(workdir / "db.sock"))
    env = dict(os.environ)
    missing = subprocess.run(
        [sys.executable, "-m", "sscontainer.db.colocated", "--config", config, "--",
         "/nonexistent/app"], env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert missing.returncode == 127
    assert "cannot run '/nonexistent/app'" in missing.stderr
    usage = subprocess.run(
        [sys.executable, "-m", "sscontainer.db.colocated", "--config", config],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert usage.returncode == 2
    assert "no application given" in usage.stderr


@pytest.mark.timeout(60)
def test_assets_file_without_the_ml_module_is_a_clear_error(workdir: Path) -> None:
    if importlib.util.find_spec("sscontainer.ml.assets") is not None:
        pytest.skip("sscontainer.ml.assets exists: the ML tests cover asset loading")
    assets = workdir / "assets.json"
    assets.write_text("{}")
    sock = str(workdir / "db.sock")
    config = _config(workdir, unix_socket=sock, assets_file=str(assets), custom_pinning=[])
    code, err = _finish(_start(workdir, config, "exit", "0"))
    assert code == 1
    assert "sscontainer.ml.assets is not available" in err
    assert not (workdir / "server-0").exists()
    assert not os.path.exists(sock)  # the server started for nothing was stopped
