"""Run and batch settings: SmartSim 0.8's behaviour (run_args, set(), formats, exceptions)."""

from __future__ import annotations

import logging
import os
import shutil
import sys
from pathlib import Path

import pytest

from sscontainer import Experiment, RunSettings, SrunSettings
from sscontainer.errors import ExecutableNotFoundError, SSConfigError, SSUnsupportedError
from sscontainer.settings import create_run_settings
from sscontainer.settings.batch import SbatchSettings

PY = sys.executable


@pytest.fixture
def warnings_seen(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Capture the settings logger (it writes to stderr and does not propagate)."""
    logger = logging.getLogger("sscontainer.settings")
    logger.addHandler(caplog.handler)
    caplog.set_level(logging.INFO, logger="sscontainer.settings")
    yield caplog
    logger.removeHandler(caplog.handler)


def test_plain_argv_and_string_args_are_split() -> None:
    rs = RunSettings(PY, "script.py --flag 'two words'")
    assert rs.launch_argv() == [PY, "script.py", "--flag", "two words"]
    rs.add_exe_args(["--more", "x y"])
    assert rs.launch_argv()[-2:] == ["--more", "x y"]


def test_exe_is_a_list_holding_the_resolved_path() -> None:
    rs = RunSettings("python3")
    assert isinstance(rs.exe, list) and len(rs.exe) == 1
    assert Path(rs.exe[0]).is_absolute() and rs.exe[0] == os.path.abspath(shutil.which("python3"))


def test_missing_exe_is_a_clear_error_and_a_file_not_found_error() -> None:
    with pytest.raises(ExecutableNotFoundError, match="not found on PATH"):
        RunSettings("no-such-program-xyz")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        RunSettings("/nonexistent/bin/app")


def test_srun_resource_setters_write_run_args_in_order() -> None:
    rs = SrunSettings(PY, ["app.py"], run_args={"exclusive": None, "mpi": "pmix"})
    rs.set_nodes(2)
    rs.set_tasks_per_node(4)
    rs.set_cpus_per_task(2)
    rs.set_walltime("00:10:00")
    rs.set_hostlist(["n1", "n2"])
    assert rs.run_args == {
        "exclusive": None, "mpi": "pmix", "nodes": 2, "ntasks-per-node": 4,
        "cpus-per-task": 2, "time": "00:10:00", "nodelist": "n1,n2",
    }
    assert rs.launch_argv()[1:] == [
        "--exclusive", "--mpi=pmix", "--nodes=2", "--ntasks-per-node=4", "--cpus-per-task=2",
        "--time=00:10:00", "--nodelist=n1,n2", PY, "app.py",
    ]
    # the scheduler's request is read back from run_args
    res = rs.resources()
    assert (res.nodes, res.tasks_per_node, res.cpus_per_task, res.walltime) == (2, 4, 2, "00:10:00")


def test_srun_formats_like_smartsim() -> None:
    rs = SrunSettings("python", run_args={"account": "A3123", "exclusive": None, "C": "P100"})
    rs.set_nodes(5)
    rs.set_tasks(100)
    assert rs.format_run_args() == [
        "--account=A3123", "--exclusive", "-C", "P100", "--nodes=5", "--ntasks=100",
    ]


@pytest.mark.parametrize(
    "method,args,key,value",
    [
        ("set_tasks", (6,), "ntasks", 6),
        ("set_tasks_per_node", ("6",), "ntasks-per-node", 6),
        ("set_cpus_per_task", (6,), "cpus-per-task", 6),
        ("set_hostlist", ("host_A",), "nodelist", "host_A"),
        ("set_hostlist_from_file", ("~/hosts",), "nodefile", "~/hosts"),
        ("set_excluded_hosts", (["a", "b"],), "exclude", "a,b"),
        ("set_node_feature", (["P100", "V100"],), "C", "P100,V100"),
        ("set_cpu_bindings", ([1, 2, 3],), "cpu_bind", "map_cpu:1,2,3"),
        ("set_cpu_bindings", (2,), "cpu_bind", "map_cpu:2"),
        ("set_memory_per_node", (8000,), "mem", "8000M"),
        ("set_broadcast", ("/tmp/dst",), "bcast", "/tmp/dst"),
        ("set_verbose_launch", (True,), "verbose", None),
        ("set_quiet_launch", (True,), "quiet", None),
    ],
)
def test_srun_setters(method: str, args: tuple[object, ...], key: str, value: object) -> None:
    rs = SrunSettings("python")
    getattr(rs, method)(*args)
    assert key in rs.run_args and rs.run_args[key] == value


def test_srun_set_time_and_flag_removal() -> None:
    rs = SrunSettings("python")
    rs.set_time(seconds=72)
    assert rs.run_args["time"] == "00:01:12"
    rs.set_time(hours=1, minutes=31, seconds=1845)
    assert rs.run_args["time"] == "02:01:45"
    rs.set_verbose_launch(True)
    rs.set_verbose_launch(False)
    rs.set_verbose_launch(False)  # repeated: no error
    assert "verbose" not in rs.run_args


@pytest.mark.parametrize("bad", [4, [5], ["ok", 5]])
def test_host_lists_of_the_wrong_type_are_type_errors(bad: object) -> None:
    with pytest.raises(TypeError):
        SrunSettings("python").set_hostlist(bad)  # type: ignore[arg-type]


def test_bad_counts_are_value_errors() -> None:
    rs = SrunSettings("python")
    for method in ("set_tasks", "set_tasks_per_node", "set_cpus_per_task", "set_nodes"):
        with pytest.raises(ValueError):
            getattr(rs, method)("not an int")
    with pytest.raises(ValueError):
        rs.set_cpu_bindings(["not_an_int"])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        rs.set_node_feature(["P100", 5])  # type: ignore[list-item]


@pytest.mark.parametrize(
    "given,key", [("normal-key", "normal-key"), ("--a-key", "a-key"), ("-b", "b"),
                  ("   c    ", "c"), ("   --a-mess    ", "a-mess")],
)
def test_set_strips_dashes_and_spaces(given: str, key: str) -> None:
    rs = RunSettings("python")
    rs.set(given, "v")
    assert rs.run_args == {key: "v"}


def test_set_checks_types_conditions_and_overwrites(warnings_seen: pytest.LogCaptureFixture) -> None:
    rs = RunSettings("python")
    with pytest.raises(TypeError):
        rs.set("good-key", 5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        rs.set(9)  # type: ignore[arg-type]
    rs.set("some-key", "some-val")
    rs.set("some-key", "another-val")
    assert rs.run_args["some-key"] == "another-val"
    assert "Overwriting argument 'some-key'" in warnings_seen.text
    rs.set("yes", condition=2 + 2 == 4)
    rs.set("no", condition=2 + 2 == 5)
    assert "yes" in rs.run_args and rs.run_args["yes"] is None and "no" not in rs.run_args


@pytest.mark.parametrize("cls,reserved", [(SrunSettings, "chdir"), (SrunSettings, "D")])
def test_reserved_arguments_are_refused(
    cls: type[RunSettings], reserved: str, warnings_seen: pytest.LogCaptureFixture
) -> None:
    rs = cls("python")
    rs.set(reserved, "/elsewhere")
    assert reserved not in rs.run_args
    assert "reserved" in warnings_seen.text
    rs.run_args = {reserved: "/elsewhere"}  # given directly: never reaches the command
    assert not any(reserved in arg for arg in rs.format_run_args())


@pytest.mark.parametrize(
    "method,args",
    [("set_nodes", (2,)), ("set_tasks", (2,)), ("set_tasks_per_node", (3,)),
     ("set_task_map", ("x",)), ("set_cpus_per_task", (4,)), ("set_hostlist", ("h",)),
     ("set_node_feature", ("P100",)), ("set_hostlist_from_file", ("f",)),
     ("set_excluded_hosts", ("h",)), ("set_cpu_bindings", ([1],)),
     ("set_memory_per_node", (16_000,)), ("set_verbose_launch", (True,)),
     ("set_quiet_launch", (True,)), ("set_broadcast", ("/tmp",)), ("set_time", (0, 1, 0)),
     ("set_walltime", ("00:55:00",)), ("set_binding", ("packed",)),
     ("set_mpmd_preamble", (["a"],)), ("make_mpmd", (None,))],
)
def test_plain_run_settings_refuse_resource_setters(
    method: str, args: tuple[object, ...], warnings_seen: pytest.LogCaptureFixture
) -> None:
    rs = RunSettings("python")
    getattr(rs, method)(*args)
    assert rs.run_args == {} and rs.mpmd == []
    assert "not implemented" in warnings_seen.text
    assert rs.resources().nodes is None


def test_plain_run_args_are_literal() -> None:
    rs = RunSettings("echo", exe_args="test", run_command="mpirun", run_args={"-np": 2})
    assert rs.format_run_args() == ["-np", "2"]


def test_exe_args_checks_and_copies() -> None:
    args = ["sleep.py", "--time=5"]
    rs = RunSettings("python", args)
    args.append("--foo")
    assert rs.exe_args == ["sleep.py", "--time=5"]
    direct = ["a"]
    rs.exe_args = direct  # assigned: copied, as SmartSim does
    direct.append("b")
    assert rs.exe_args == ["a"]
    for bad in ({"dict": "is-wrong-type"}, ["list-includes-int", 5], [["1"], ["2"]]):
        with pytest.raises(TypeError):
            RunSettings("python", exe_args=bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        rs.add_exe_args([1, 2, 3])  # type: ignore[list-item]


def test_env_vars_check_copy_and_format() -> None:
    env = {"k1": "v1"}
    rs = RunSettings("python", env_vars=env)
    env["k1"] = "changed"
    assert rs.env_vars == {"k1": "v1"}
    assigned = {"A": "a", "B": None, "C": "", "D": 12}
    rs.env_vars = assigned  # type: ignore[assignment]
    assigned["A"] = "changed"
    assert rs.format_env_vars() == ["A=a", "B=", "C=", "D=12"]
    rs.update_env({"E": 1.5, "F": True})
    assert rs.env_vars["E"] == "1.5" and rs.env_vars["F"] == "True"
    for bad in ({"x": None}, {"x": {"abc"}}, {"x": {"a": "b"}}):
        with pytest.raises(TypeError):
            rs.update_env(bad)  # type: ignore[arg-type]
    with pytest.raises(SSConfigError):
        rs.update_env({"BAD=NAME": "1"})


def test_srun_env_formats(monkeypatch: pytest.MonkeyPatch, warnings_seen: pytest.LogCaptureFixture) -> None:
    rs = SrunSettings("python", env_vars={"OMP_NUM_THREADS": 20, "SSKEYIN": "name_0,name_1"})
    assert rs.format_env_vars() == ["OMP_NUM_THREADS=20"]
    exported, compound = rs.format_comma_sep_env_vars()
    assert exported == "OMP_NUM_THREADS=20,SSKEYIN" and compound == ["SSKEYIN=name_0,name_1"]
    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    rs.format_env_vars()
    assert "Variable OMP_NUM_THREADS is set to 4 in current environment" in warnings_seen.text


def test_run_command_is_resolved_to_a_full_path() -> None:
    rs = RunSettings("python", run_command="echo")
    assert rs.run_command == os.path.abspath(shutil.which("echo") or "")
    assert RunSettings("python").run_command is None
    # not on this host (maybe only on compute nodes): kept as given
    assert RunSettings("python", run_command="only-on-nodes").run_command == "only-on-nodes"


def test_create_run_settings_follows_smartsim() -> None:
    assert type(create_run_settings("local", "echo", "hello", run_command=None)) is RunSettings
    auto = create_run_settings("local", "echo", "hello", run_command="auto")
    assert type(auto) is RunSettings and auto.run_command is None
    specific = create_run_settings("local", "echo", "hello", run_command="specific")
    assert type(specific) is RunSettings and specific.run_command == "specific"
    assert type(create_run_settings("slurm", "echo", run_command="auto")) is SrunSettings
    run_args = {"arg0": "val0"}
    rs = create_run_settings("local", "echo", run_args=run_args)
    run_args["arg0"] = "changed"
    assert rs.run_args["arg0"] == "val0"


def test_run_command_auto_follows_launcher(tmp_path: Path) -> None:
    local = Experiment("e", exp_path=str(tmp_path), launcher="local")
    assert type(local.create_run_settings(PY)) is RunSettings
    assert type(local.create_run_settings(PY, run_command="srun")) is SrunSettings
    assert local.create_run_settings(PY, run_command="aprun-typo").run_command == "aprun-typo"
    with pytest.raises(TypeError):
        local.create_run_settings(PY, not_an_argument=1)


def test_srun_mpmd_argv_and_refusals() -> None:
    rs = SrunSettings(PY, "a.py")
    rs.set_tasks(1)
    other = SrunSettings(PY, "b.py")
    other.set_tasks(2)
    rs.make_mpmd(other)
    assert rs.launch_argv()[1:] == ["--ntasks=1", PY, "a.py", ":", "--ntasks=2", PY, "b.py"]
    colo = SrunSettings("python")
    colo.colocated_db_settings = {"port": 6379, "cpus": 1}
    with pytest.raises(SSUnsupportedError):
        colo.make_mpmd(SrunSettings("python"))


def test_batch_settings_write_batch_args() -> None:
    bs = SbatchSettings(nodes=2, time="01:00:00", account="proj", batch_args={"exclusive": None},
                        queue="debug")
    assert bs.batch_args["nodes"] == "2" and bs.batch_args["partition"] == "debug"
    assert bs.format_batch_args() == [
        "--exclusive", "--nodes=2", "--partition=debug", "--time=01:00:00", "--account=proj",
    ]
    bs.set_hostlist(["n1", "n2"])
    bs.set_cpus_per_task(4)
    assert bs.batch_args["nodelist"] == "n1,n2" and bs.batch_args["cpus-per-task"] == "4"
    assert bs.batch_cmd.endswith("sbatch")
    bs.add_preamble(["module load x"])
    bs.add_preamble("export Y=1")
    assert list(bs.preamble) == ["module load x", "export Y=1"]
    with pytest.raises(TypeError):
        bs.add_preamble(5)  # type: ignore[arg-type]
    with pytest.raises(SSConfigError, match="NUL"):
        bs.add_preamble(["ok", "a\0b"])
    assert list(bs.preamble) == ["module load x", "export Y=1"]  # nothing of a refused call
    with pytest.raises(SSConfigError):
        SbatchSettings(time="1h")
    with pytest.raises(SSConfigError):
        SbatchSettings(queue="two words")  # type: ignore[arg-type]


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
