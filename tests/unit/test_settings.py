"""Run and batch settings build the exact launch argv."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from sscontainer import Experiment, MpiexecSettings, MpirunSettings, RunSettings, SrunSettings
from sscontainer.errors import ExecutableNotFoundError, SSConfigError, SSUnsupportedError
from sscontainer.settings.batch import SbatchSettings

PY = sys.executable


def test_plain_argv_and_string_args_are_split() -> None:
    rs = RunSettings(PY, "script.py --flag 'two words'")
    assert rs.launch_argv() == [PY, "script.py", "--flag", "two words"]
    rs.add_exe_args(["--more", "x y"])
    assert rs.launch_argv()[-2:] == ["--more", "x y"]


def test_exe_is_resolved_on_path() -> None:
    rs = RunSettings("python3")
    assert Path(rs.exe).is_absolute()


def test_missing_exe_is_a_clear_error() -> None:
    with pytest.raises(ExecutableNotFoundError, match="not found on PATH"):
        RunSettings("no-such-program-xyz")
    with pytest.raises(ExecutableNotFoundError, match="does not exist"):
        RunSettings("/nonexistent/bin/app")


def test_srun_argv() -> None:
    rs = SrunSettings(PY, ["app.py"], run_args={"exclusive": None, "mpi": "pmix"})
    rs.set_nodes(2)
    rs.set_tasks_per_node(4)
    rs.set_cpus_per_task(2)
    rs.set_walltime("00:10:00")
    rs.set_hostlist(["n1", "n2"])
    assert rs.launch_argv() == [
        "srun",
        "--nodes=2",
        "--ntasks-per-node=4",
        "--cpus-per-task=2",
        "--time=00:10:00",
        "--nodelist=n1,n2",
        "--exclusive",
        "--mpi=pmix",
        PY,
        "app.py",
    ]


@pytest.mark.parametrize("cls,cmd", [(MpirunSettings, "mpirun"), (MpiexecSettings, "mpiexec")])
def test_mpi_argv(cls: type[RunSettings], cmd: str) -> None:
    rs = cls(PY, "app.py")
    rs.set_tasks(8)
    rs.set("bind-to", "core")
    assert rs.launch_argv() == [cmd, "-n", "8", "--bind-to", "core", PY, "app.py"]


def test_settings_validation() -> None:
    rs = RunSettings(PY)
    with pytest.raises(SSConfigError):
        rs.set_nodes(0)
    with pytest.raises(SSConfigError):
        rs.set_walltime("10 minutes")
    with pytest.raises(SSConfigError):
        rs.set("--dashed")
    with pytest.raises(SSConfigError):
        rs.update_env({"BAD=NAME": "1"})
    with pytest.raises(SSConfigError):
        RunSettings(PY, [1, 2])  # type: ignore[list-item]


def test_run_command_auto_follows_launcher(tmp_path: Path) -> None:
    local = Experiment("e", exp_path=str(tmp_path), launcher="local")
    assert type(local.create_run_settings(PY)) is RunSettings
    assert type(local.create_run_settings(PY, run_command="srun")) is SrunSettings
    with pytest.raises(SSConfigError, match="run_command"):
        local.create_run_settings(PY, run_command="aprun-typo")


def test_batch_settings() -> None:
    bs = SbatchSettings(nodes=2, time="01:00:00", queue="debug", account="proj", batch_args={"exclusive": None})
    assert bs.format_batch_args() == [
        "--nodes=2",
        "--time=01:00:00",
        "--partition=debug",
        "--account=proj",
        "--exclusive",
    ]
    with pytest.raises(SSConfigError):
        SbatchSettings(time="1h")
    with pytest.raises(SSConfigError):
        SbatchSettings(queue="two words")


def test_batch_settings_need_a_workload_manager(tmp_path: Path) -> None:
    exp = Experiment("e", exp_path=str(tmp_path), launcher="local")
    with pytest.raises(SSUnsupportedError, match="slurm"):
        exp.create_batch_settings(nodes=1)


def test_gpus_reach_srun_and_the_step(tmp_path: Path) -> None:
    from sscontainer.entities.steps import model_step

    rs = SrunSettings(PY, "app.py")
    rs.set_gpus(2)
    assert "--gpus-per-task=2" in rs.launch_argv()
    exp = Experiment("e", exp_path=str(tmp_path))
    model = exp.create_model("m", rs)
    assert model_step(model).resources.gpus == 2
    with pytest.raises(SSConfigError):
        rs.set_gpus(-1)
