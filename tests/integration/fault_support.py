"""Helpers for the fault tests: a hostile experiment, and counting what it left running.

Processes are counted without sscontainer's own mechanism (its environment mark): a
process belongs to the test when its environment holds the test's own tag (every
process the driver starts inherits it), or its working directory or command line
names the test's directory (a Redis server overwrites its environment block, but its
title and directory name the experiment's paths; TMPDIR points there too).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import yaml

from sscontainer.db.address import find_free_port

PY = sys.executable
# a model whose child leaves its session (setsid) and one whose child is orphaned by a
# double fork: neither is in the model's process group any more
SETSID_CHILD = (
    "import os, subprocess, sys, time\n"
    "subprocess.Popen([sys.executable, '-c', 'import os, time; os.setsid(); time.sleep(600)'])\n"
    "if os.fork() == 0:\n"
    "    os.setsid()\n"
    "    if os.fork() == 0:\n"
    "        time.sleep(600)\n"
    "    os._exit(0)\n"
    "open('ready', 'w').close()\n"
    "time.sleep(600)\n"
)
IGNORES_TERM = (
    "import signal, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "open('ready', 'w').close()\n"
    "time.sleep(600)\n"
)
SLEEPER = "import time\nopen('ready', 'w').close()\ntime.sleep(600)\n"


def hostile_experiment(tmp_path: Path, members: int = 2) -> tuple[Path, Path, int]:
    """A YAML with a database (shard + ML worker), a colocated model, a model with
    escaping children, and an ensemble whose members ignore SIGTERM. Returns the file,
    the experiment directory and how many ``ready`` files mean everything is up."""
    doc: dict[str, Any] = {
        "name": "faults",
        "path": "exp",
        "database": {"port": find_free_port()},
        "models": [
            {"name": "escaper", "exe": PY, "args": ["-c", SETSID_CHILD]},
            {"name": "colo", "exe": PY, "args": ["-c", SLEEPER],
             "colocated_db": {"transport": "uds"}},
        ],
        "ensembles": [
            {"name": "stubborn", "exe": PY, "args": ["-c", IGNORES_TERM], "replicas": members},
        ],
    }
    path = tmp_path / "faults.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path, tmp_path / "exp", 2 + members


def driver_env(tmp_path: Path, tag: str) -> dict[str, str]:
    scratch = tmp_path / "tmp"
    scratch.mkdir(exist_ok=True)
    return {**os.environ, "SSC_FAULT_TAG": tag, "TMPDIR": str(scratch)}


def start_driver(tmp_path: Path, yaml_path: Path, tag: str) -> subprocess.Popen[str]:
    # its own session, as a terminal's job would be: a signal reaches the driver only
    return subprocess.Popen(
        [PY, "-m", "sscontainer.cli", "run", str(yaml_path)], env=driver_env(tmp_path, tag),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )


def wait_ready(exp_dir: Path, count: int, driver: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(list(exp_dir.rglob("ready"))) >= count:
            time.sleep(0.5)  # the escaper's orphans are forked just before its ready file
            return
        if driver.poll() is not None:
            raise AssertionError(f"the driver ended early: {driver.communicate()}")
        time.sleep(0.1)
    raise AssertionError(f"not every entity got ready within {timeout} s")


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return b""


def live_processes(tmp_path: Path, tag: str) -> list[str]:
    """``pid command`` of every live process that belongs to this test."""
    me = os.getpid()
    needle = f"SSC_FAULT_TAG={tag}".encode()
    root = str(tmp_path).encode()
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == me:
            continue
        stat = _read(f"/proc/{name}/stat")
        if not stat or stat.rsplit(b")", 1)[1].split()[0] in (b"Z", b"X"):
            continue
        try:
            cwd = os.readlink(f"/proc/{name}/cwd").encode()
        except OSError:
            cwd = b""
        cmdline = _read(f"/proc/{name}/cmdline")
        if needle in _read(f"/proc/{name}/environ") or cwd.startswith(root) or root in cmdline:
            command = cmdline.replace(b"\0", b" ").decode(errors="replace")[:80]
            found.append(f"{name} {command}")
    return found


def settle_count(tmp_path: Path, tag: str, timeout: float = 20.0) -> list[str]:
    """The test's processes once they stop disappearing (empty as soon as none is left)."""
    deadline = time.monotonic() + timeout
    left = live_processes(tmp_path, tag)
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = live_processes(tmp_path, tag)
    return left


def kill_all(tmp_path: Path, tag: str) -> None:
    """Leave nothing behind even when the test fails."""
    for line in live_processes(tmp_path, tag):
        try:
            os.kill(int(line.split()[0]), signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def new_tag() -> str:
    return uuid.uuid4().hex
