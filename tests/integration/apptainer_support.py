"""Real Apptainer for the integration tests: the tool, the cluster, a shared image cache.

- The cluster these tests run on is chosen here, and only here (``cluster()``): the
  single-node one `.ci/slurm-up.sh` starts, until the multi-node one takes over.
- Images are content-addressed, so every test (and every session) shares them:
  ``SSCONTAINER_CACHE`` points at one directory that an ordinary user can read too
  (root's ``~/.cache`` is not readable by others). A build costs 30-70 s here; an
  image already there costs a hash.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require_service
from tests.integration.slurm_support import HOW as SLURM_HOW
from tests.integration.slurm_support import slurm_conf, slurm_up

TEST_USER = os.environ.get("SSC_TEST_USER", "ssctest")  # made by .ci/apptainer-up.sh
# .ci/run exports SSCONTAINER_CACHE (shared with the example builds); else a fixed place
CACHE = Path(os.environ.get("SSCONTAINER_CACHE") or "/var/tmp/sscontainer-cache")
HOW = "run .ci/apptainer-up.sh as root (Apptainer from Debian sid; a rootfs + wrapper on Debian 12)"
HOSTILE = "a b 'q' \"dq\" $(touch /tmp/pwned) `id` ; x=y, z\nline2 \\ * ${HOME} %s"


def apptainer_version() -> str | None:
    """``apptainer --version`` when the real tool answers, else None."""
    if shutil.which("apptainer") is None:
        return None
    try:
        done = subprocess.run(
            ["apptainer", "--version"], capture_output=True, text=True, timeout=60
        )
    except subprocess.TimeoutExpired:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def require_apptainer() -> str:
    version = apptainer_version()
    require_service(version is not None, "Apptainer", HOW)
    assert version is not None
    return version


def require_docker_base() -> None:
    """The Docker Engine and sscontainer's base image (every default image builds on it)."""
    try:
        import docker

        engine = docker.from_env()
        engine.ping()
        engine.images.get("sscontainer/base:latest")
        ok, why = True, ""
    except Exception as exc:  # any engine/SDK failure means: not available
        ok, why = False, str(exc)
    require_service(ok, "Docker Engine with sscontainer/base", f".ci/docker-up.sh and "
                    f".ci/build-images.sh ({why})")


def cluster(wait: float = 90.0) -> str:
    """The Slurm cluster the Apptainer tests run on (its slurm.conf); skip/fail if down.

    Waits up to ``wait`` s: right after a test cancels its jobs the node is
    briefly COMPLETING, which ``slurm_up`` does not count as usable.
    """
    deadline = time.monotonic() + wait
    up = slurm_up()
    while not up and slurm_conf() is not None and time.monotonic() < deadline:
        time.sleep(1.0)
        up = slurm_up()
    require_service(up, "a Slurm cluster", SLURM_HOW)
    conf = slurm_conf()
    assert conf is not None
    return conf


def user_exists(name: str = TEST_USER) -> bool:
    try:
        import pwd

        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@pytest.fixture(scope="session")
def image_cache() -> Iterator[Path]:
    """SSCONTAINER_CACHE for every test (and the CLI they start): one shared cache."""
    CACHE.mkdir(parents=True, exist_ok=True)
    CACHE.chmod(0o755)
    old = os.environ.get("SSCONTAINER_CACHE")
    os.environ["SSCONTAINER_CACHE"] = str(CACHE)
    yield CACHE
    if old is None:
        os.environ.pop("SSCONTAINER_CACHE", None)
    else:
        os.environ["SSCONTAINER_CACHE"] = old


def jobs_of(path: str | Path) -> list[str]:
    """Slurm jobs (any state squeue still shows) whose working directory is under ``path``."""
    done = subprocess.run(
        ["squeue", "-h", "-t", "all", "-o", "%i|%T|%Z"], capture_output=True, text=True,
        timeout=60,
    )
    root = str(path)
    return [
        line for line in done.stdout.splitlines()
        if line.split("|")[-1].startswith(root) and line.split("|")[1] in
        ("PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "SUSPENDED")
    ]


def processes_with(token: str) -> list[str]:
    """Command lines of live processes that mention ``token`` (this test's own marker)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                cmdline = handle.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if token in cmdline:
            found.append(f"{entry}: {cmdline}")
    return found
