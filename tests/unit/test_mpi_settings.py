"""MPI run settings against the real Open MPI commands (SmartSim 0.8's behaviour)."""

from __future__ import annotations

import logging
import os
import shutil
import stat
import sys
from pathlib import Path

import pytest

from sscontainer.errors import LauncherError, SSUnsupportedError
from sscontainer.settings import MpiexecSettings, MpirunSettings, OrterunSettings
from sscontainer.settings.mpi import _BaseMPISettings
from tests.conftest import require_service

PY = sys.executable
MPI_CLASSES = [(MpirunSettings, "mpirun"), (MpiexecSettings, "mpiexec"), (OrterunSettings, "orterun")]


@pytest.fixture(autouse=True)
def _mpi() -> None:
    require_service(shutil.which("mpirun") is not None, "Open MPI (mpirun)",
                    "apt-get install openmpi-bin")


@pytest.mark.parametrize("cls,cmd", MPI_CLASSES)
def test_mpi_argv_and_full_path(cls: type[_BaseMPISettings], cmd: str) -> None:
    rs = cls(PY, "app.py")
    rs.set_tasks(8)
    rs.set("bind-to", "core")
    assert rs.run_command == os.path.abspath(shutil.which(cmd) or "")
    assert rs.launch_argv() == [rs.run_command, "--n", "8", "--bind-to", "core", PY, "app.py"]


@pytest.mark.parametrize("cls,cmd", MPI_CLASSES)
def test_missing_run_command_is_detected(
    cls: type[_BaseMPISettings], cmd: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no MPI here
    with pytest.raises(LauncherError, match=cmd):
        cls(PY)
    rs = cls(PY, fail_if_missing_exec=False)  # a warning instead: it may be on the nodes
    assert rs.run_command == cmd


def test_slurm_mpiexec_wrapper_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Slurm's mpiexec.slurm wrapper is not installable here: a stand-in answers --help as it does
    fake = tmp_path / "mpiexec"
    fake.write_text("#!/bin/sh\necho 'usage: mpiexec.slurm args executable pgmargs'\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(SSUnsupportedError, match="srun"):
        MpiexecSettings(PY)
    MpirunSettings(PY)  # the real mpirun is fine


def test_base_settings_format() -> None:
    rs = _BaseMPISettings(PY, run_args={"map-by": "ppr:1:node", "np": 1})
    assert rs.format_run_args() == ["--map-by", "ppr:1:node", "--np", "1"]
    rs.set_task_map("ppr:2:node")
    rs.set_cpus_per_task(1)
    rs.set_hostlist(["node005", "node006"])
    assert rs.format_run_args() == [
        "--map-by", "ppr:2:node", "--np", "1", "--cpus-per-proc", "1", "--host", "node005,node006",
    ]


def test_setters_and_resources() -> None:
    rs = MpirunSettings(PY)
    rs.set_tasks(6)
    rs.set_tasks_per_node(3)
    rs.set_hostlist_from_file("~/hosts")
    rs.set_time(minutes=1, seconds=12)
    assert rs.run_args == {"n": 6, "npernode": 3, "hostfile": "~/hosts", "timeout": "72"}
    res = rs.resources()  # what a batch job asks Slurm for
    assert (res.ntasks, res.tasks_per_node, res.walltime) == (6, 3, "00:01:12")
    rs.set_broadcast("/tmp/x")
    assert "preload-binary" in rs.run_args and rs.run_args["preload-binary"] is None
    rs.set_verbose_launch(True)
    rs.set_quiet_launch(True)
    rs.set_quiet_launch(False)
    assert "verbose" in rs.run_args and "quiet" not in rs.run_args
    with pytest.raises(ValueError):
        rs.set_tasks("not an int")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        rs.set_time("not an int")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        rs.set_hostlist([444])  # type: ignore[list-item]


@pytest.mark.parametrize("reserved", ["wd", "wdir"])
def test_reserved_args(reserved: str, caplog: pytest.LogCaptureFixture) -> None:
    rs = MpirunSettings(PY)
    logger = logging.getLogger("sscontainer.settings")
    logger.addHandler(caplog.handler)
    try:
        rs.set(reserved, "/elsewhere")
    finally:
        logger.removeHandler(caplog.handler)
    assert reserved not in rs.run_args and "reserved" in caplog.text


def test_env_format_and_mpmd() -> None:
    rs = MpirunSettings(PY, env_vars={"OMP_NUM_THREADS": 20, "LOGGING": "verbose", "HOME": None})
    rs.update_env({"OMP_NUM_THREADS": 10})
    assert rs.format_env_vars() == ["-x", "OMP_NUM_THREADS=10", "-x", "LOGGING=verbose", "-x", "HOME"]
    other = MpirunSettings(PY, "b.py")
    rs.make_mpmd(other)
    assert rs.mpmd == [other] and rs.launch_argv()[-3:] == [":", PY, "b.py"]
    colo = MpirunSettings(PY)
    colo.colocated_db_settings = {"port": 6379}
    with pytest.raises(SSUnsupportedError):
        colo.make_mpmd(other)
