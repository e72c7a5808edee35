"""The shard job (`python -m sscontainer.db.shard`) on this host: server, workers, signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from sscontainer.db.server_config import ShardConfig, write_config
from tests.integration.db_fixtures import free_port_block, require_server

PY = sys.executable


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry))
    return found


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _start(tmp_path: Path) -> tuple[subprocess.Popen[bytes], int, int]:
    """A shard job with one CPU worker: (job, server pid, worker pid)."""
    require_server()
    port = free_port_block(1)
    conf = write_config(ShardConfig(port=port, data_dir=str(tmp_path)), str(tmp_path / "s.conf"))
    address_file = tmp_path / "s.address"
    job = subprocess.Popen(
        [PY, "-m", "sscontainer.db.shard", "--config", conf, "--name", "s_0", "--interface", "lo",
         "--address-file", str(address_file), "--ml-device", "CPU",
         "--ml-log", str(tmp_path / "ml.log")],
        stdout=subprocess.DEVNULL, stderr=open(tmp_path / "s.err", "wb"),  # noqa: SIM115
    )
    deadline = time.monotonic() + 60
    while not address_file.exists():
        assert job.poll() is None, (tmp_path / "s.err").read_text()
        assert time.monotonic() < deadline, "the shard never reported its address"
        time.sleep(0.05)
    assert address_file.read_text() == f"127.0.0.1:{port}"
    kids = {pid: _cmdline(pid) for pid in _children(job.pid)}
    server = [pid for pid, cmd in kids.items() if "sscontainer.ml.worker" not in cmd]
    worker = [pid for pid, cmd in kids.items() if "sscontainer.ml.worker" in cmd]
    assert len(server) == 1 and len(worker) == 1, kids
    assert os.getpgid(worker[0]) == os.getpgid(job.pid)  # ends with the job's process group
    return job, server[0], worker[0]


def _gone(pid: int, bound: float = 15) -> bool:
    """The process ended (no longer exists, or a zombie waiting for its parent)."""
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                if handle.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except OSError:
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("how", ["sigterm", "server shutdown"])
def test_workers_end_with_the_server(tmp_path: Path, how: str) -> None:
    job, server, worker = _start(tmp_path)
    try:
        if how == "sigterm":  # scancel: the job gets SIGTERM and passes it on
            job.send_signal(signal.SIGTERM)
        else:  # the server ends on its own
            port = int((tmp_path / "s.address").read_text().rsplit(":", 1)[1])
            try:
                redis.Redis(port=port).shutdown(nosave=True)
            except redis.ConnectionError:
                pass
        assert job.wait(timeout=30) == 0
        assert _gone(server) and _gone(worker)
    finally:
        if job.poll() is None:
            job.kill()
            job.wait()


def test_a_node_without_the_interface_is_the_jobs_error(tmp_path: Path) -> None:
    require_server()
    conf = write_config(ShardConfig(port=free_port_block(1), data_dir=str(tmp_path)),
                        str(tmp_path / "s.conf"))
    done = subprocess.run(
        [PY, "-m", "sscontainer.db.shard", "--config", conf, "--name", "s_0", "--interface",
         "ib9", "--address-file", str(tmp_path / "s.address")],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("shard s_0 (node ")
    assert "network interface 'ib9' has no IPv4 address here" in done.stderr
    assert not (tmp_path / "s.address").exists()
