"""A containerized step under srun inside a Slurm job, with Charliecloud's ch-run.

Charliecloud is the unprivileged, daemonless HPC runtime available here (the
closest stand-in for Apptainer). The image is a tiny rootfs directory holding a
static busybox, built per test in well under a second.
"""

from __future__ import annotations

import os
import shutil
import struct
import time
from pathlib import Path

import pytest

from sscontainer.launchers.slurm import SlurmLauncher
from sscontainer.launchers.step import Mount, Step
from sscontainer.status import Status
from tests.conftest import require_service
from tests.integration.slurm_support import HOW, slurm_up

pytestmark = pytest.mark.slurm

HOSTILE = "a b 'q' \"dq\" $(touch /PWNED) `id` ; \\\nline2 ${HOME} *"
BUSYBOX = "/usr/bin/busybox"


def is_static_elf(path: str) -> bool:
    """True for a 64-bit ELF without a PT_INTERP header (no dynamic loader needed)."""
    with open(path, "rb") as f:
        head = f.read(64)
        if head[:5] != b"\x7fELF\x02":
            return False
        (phoff,) = struct.unpack_from("<Q", head, 32)
        phentsize, phnum = struct.unpack_from("<HH", head, 54)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    return all(
        struct.unpack_from("<I", table, i * phentsize)[0] != 3  # PT_INTERP
        for i in range(phnum)
    )


def make_rootfs(root: Path, workdirs: list[str]) -> Path:
    """A minimal image: static busybox + the directories ch-run binds onto."""
    for sub in ("bin", "etc", "tmp", "proc", "dev", "sys", "home", "data", *workdirs):
        (root / sub.lstrip("/")).mkdir(parents=True, exist_ok=True)
    shutil.copy2(BUSYBOX, root / "bin" / "busybox")
    for tool in ("sh", "cat", "printf", "pwd", "echo", "ls"):
        os.symlink("busybox", root / "bin" / tool)
    for name in ("passwd", "group"):  # ch-run binds the host's over these
        (root / "etc" / name).touch()
    return root


@pytest.fixture(scope="module")
def launcher() -> SlurmLauncher:
    require_service(slurm_up(), "a Slurm cluster", HOW)
    require_service(
        shutil.which("ch-run") is not None,
        "Charliecloud (ch-run)",
        "apt-get install -y --no-install-recommends charliecloud-runtime (.ci/slurm-up.sh does)",
    )
    require_service(
        os.path.isfile(BUSYBOX) and is_static_elf(BUSYBOX),
        "a static busybox",
        "apt-get install -y busybox-static (.ci/slurm-up.sh does)",
    )
    return SlurmLauncher(runtime="charliecloud", poll_interval=0.2)


def test_charliecloud_step_under_srun(launcher: SlurmLauncher, tmp_path: Path) -> None:
    image = make_rootfs(tmp_path / "image", ["/work/boxed"])
    data = tmp_path / "data"
    data.mkdir()
    (data / "input.txt").write_text("from the host\n")
    cwd = tmp_path / "boxed"
    script = (
        'printf "%s" "$HOSTILE" > env.txt; pwd -P > pwd.txt; cat /data/input.txt > copy.txt; '
        'echo "$1" > arg.txt; echo ran inside'
    )
    step = Step(
        name="boxed",
        entity_type="Model",
        argv=("srun", "--ntasks=1", "/bin/sh", "-c", script, "sh", HOSTILE),
        cwd=str(cwd),
        out=str(cwd / "boxed.out"),
        err=str(cwd / "boxed.err"),
        env={"HOSTILE": HOSTILE},
        image=str(image),
        mounts=(Mount(str(data), "/data", read_only=True),),
    )
    handle = launcher.start(step)
    deadline = time.monotonic() + 120
    while not launcher.wait([handle], timeout=5):
        assert time.monotonic() < deadline, "the containerized job did not end"
    info = launcher.status(handle)
    assert (info.status, info.returncode) == (Status.COMPLETED, 0), (cwd / "boxed.err").read_text()
    assert "ch-run" in (cwd / "boxed.sbatch").read_text()
    assert (cwd / "env.txt").read_text() == HOSTILE
    assert (cwd / "arg.txt").read_text() == HOSTILE + "\n"
    assert (cwd / "pwd.txt").read_text() == "/work/boxed\n"  # the run dir, bound in the image
    assert (cwd / "copy.txt").read_text() == "from the host\n"
    assert (cwd / "boxed.out").read_text() == "ran inside\n"
    assert not (image / "PWNED").exists()


def test_container_failure_exit_code(launcher: SlurmLauncher, tmp_path: Path) -> None:
    image = make_rootfs(tmp_path / "image", ["/work/crash"])
    cwd = tmp_path / "crash"
    step = Step(
        name="crash",
        entity_type="Model",
        argv=("srun", "/bin/sh", "-c", "exit 7"),
        cwd=str(cwd),
        out=str(cwd / "crash.out"),
        err=str(cwd / "crash.err"),
        image=str(image),
    )
    handle = launcher.start(step)
    deadline = time.monotonic() + 120
    while not launcher.wait([handle], timeout=5):
        assert time.monotonic() < deadline, "the containerized job did not end"
    info = launcher.status(handle)
    assert (info.status, info.returncode) == (Status.FAILED, 7)
