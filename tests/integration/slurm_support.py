"""Finding the test Slurm clusters: `.ci/slurm-up.sh` (one node), `.ci/slurm-multinode.sh`."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import time
from typing import Any

DEFAULT_DIR = os.environ.get("SSC_SLURM_DIR", "/tmp/sscontainer-slurm")
HOW = "run .ci/slurm-up.sh (it prints the SLURM_CONF to export)"


def slurm_conf() -> str | None:
    """The cluster's slurm.conf: $SLURM_CONF, else the one in slurm-up.sh's default directory.

    Sets ``os.environ["SLURM_CONF"]`` to it, so every Slurm command finds it.
    """
    for conf in (os.environ.get("SLURM_CONF"), os.path.join(DEFAULT_DIR, "slurm.conf")):
        if conf and os.path.isfile(conf):
            os.environ["SLURM_CONF"] = conf
            return conf
    return None


def slurm_up() -> bool:
    """A conf, the client tools and a controller that answers (sinfo lists a usable node)."""
    if slurm_conf() is None or shutil.which("sbatch") is None or shutil.which("sinfo") is None:
        return False
    try:
        done = subprocess.run(
            ["sinfo", "-h", "-N", "-o", "%T"], capture_output=True, text=True, timeout=20
        )
    except subprocess.TimeoutExpired:
        return False
    states = done.stdout.split()
    return done.returncode == 0 and any(s in ("idle", "mixed", "allocated") for s in states)


# --- the multi-node cluster of .ci/slurm-multinode.sh ------------------------------------
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MN_SCRIPT = os.path.join(REPO, ".ci", "slurm-multinode.sh")
MN_DIR = os.environ.get("SSC_MN_DIR", "/tmp/sscontainer-mn")
MN_HOW = "run `bash .ci/slurm-multinode.sh up` as root (a 4-node cluster in network namespaces)"


@dataclasses.dataclass(frozen=True)
class MultiNode:
    """The running multi-node cluster: its config, nodes and their addresses."""

    conf: str
    nodes: tuple[str, ...]
    addresses: dict[str, str]  # node -> address on its interface
    ifname: str

    def env(self) -> dict[str, str]:
        return {**os.environ, "SLURM_CONF": self.conf}

    def on(self, host: str, argv: list[str], timeout: float = 300, **kwargs: object) -> (
        subprocess.CompletedProcess[str]
    ):
        """Run ``argv`` on a node, the controller or ``login2`` (a login node without hsn0)."""
        return subprocess.run(  # type: ignore[call-overload, no-any-return]
            ["bash", MN_SCRIPT, "exec", host, "-d", MN_DIR, "--", *argv],
            capture_output=True, text=True, timeout=timeout, env=self.env(), **kwargs,
        )

    def leftovers(self) -> list[str]:
        """Processes left on the nodes (anything but slurmd): ``node pid cmdline`` lines."""
        done = subprocess.run(
            ["bash", MN_SCRIPT, "procs", "-d", MN_DIR], capture_output=True, text=True,
            timeout=60, check=True,
        )
        return [line for line in done.stdout.splitlines() if line.strip()]

    def settled(self, timeout: float = 60.0, match: str = "") -> list[str]:
        """Leftovers (containing ``match``) once none are left, or those left after ``timeout``.

        A cancelled job's processes take a moment to go (Slurm's KillWait).
        """
        deadline = time.monotonic() + timeout
        while True:
            left = [line for line in self.leftovers() if match in line]
            if not left or time.monotonic() >= deadline:
                return left
            time.sleep(0.5)

    def active_jobs(self) -> list[str]:
        """``id name state`` of every job not yet ended."""
        done = subprocess.run(
            ["squeue", "-h", "-o", "%i %j %T"], capture_output=True, text=True, timeout=60,
            env=self.env(), check=True,
        )
        return [line for line in done.stdout.splitlines() if line.strip()]

    def batch_host(self, handle: str) -> str:
        """The node a job's batch script ran on."""
        done = subprocess.run(
            ["scontrol", "show", "job", "-o", handle], capture_output=True, text=True,
            timeout=60, env=self.env(), check=True,
        )
        for word in done.stdout.split():
            if word.startswith("BatchHost="):
                return word.split("=", 1)[1]
        return ""


def multinode() -> MultiNode | None:
    """The cluster .ci/slurm-multinode.sh started, when it is up and this is root."""
    conf = os.path.join(MN_DIR, "slurm.conf")
    record = os.path.join(MN_DIR, "cluster.env")
    if os.geteuid() != 0 or not os.path.isfile(conf) or not os.path.isfile(record):
        return None
    if shutil.which("sbatch") is None:
        return None
    with open(record, encoding="utf-8") as handle:
        values = dict(line.strip().split("=", 1) for line in handle if "=" in line)
    try:
        done = subprocess.run(
            ["sinfo", "-h", "-N", "-o", "%N|%o|%T"], capture_output=True, text=True, timeout=20,
            env={**os.environ, "SLURM_CONF": conf},
        )
    except subprocess.TimeoutExpired:
        return None
    rows = [line.split("|") for line in done.stdout.split()]
    ready = {r[0]: r[1] for r in rows if len(r) == 3 and r[2] in ("idle", "mixed", "allocated")}
    if done.returncode != 0 or len(ready) < int(values.get("REC_NODES", "0") or 0) or not ready:
        return None
    nodes = tuple(sorted(ready, key=lambda n: int(n[1:]) if n[1:].isdigit() else 0))
    return MultiNode(conf, nodes, ready, values.get("REC_IFNAME", "hsn0"))


def use_multinode(monkeypatch: Any) -> MultiNode:
    """The multi-node cluster for one test (SLURM_CONF pointed at it), or skip/fail."""
    from tests.conftest import require_service

    found = multinode()
    require_service(found is not None, "the multi-node Slurm cluster", MN_HOW)
    assert found is not None
    monkeypatch.setenv("SLURM_CONF", found.conf)
    return found



def on_the_nodes(exp: Any) -> Any:
    """``exp`` with its entities run as plain processes on the nodes, this test's Python.

    Where Slurm runs entities in containers by default (Apptainer), the default container's
    runtime "none" asks for no container; where that runtime is unknown, nothing needs asking.
    The drivers the tests write do the same in their own words.
    """
    from sscontainer.settings.containers import ContainerSettings

    try:
        exp.default_container = ContainerSettings(runtime="none")
    except ValueError:
        pass
    return exp
