# ruff: noqa: I001  (the SmartSim imports stay together, between the markers)
"""A SmartSim 0.8 driver fragment run twice: with ``smartsim`` imports and with the same
imports spelled ``sscontainer``. It prints one JSON line of observations.

Used by ``test_smartsim_differential.py``; the text between the IMPORTS markers is
the only part that differs between the two runs.
"""

# --- IMPORTS ---
from smartsim import Experiment
from smartsim.entity import Ensemble, Model
from smartsim.error import EntityExistsError, LauncherError, SmartSimError, SSUnsupportedError
from smartsim.error import UserStrategyError
from smartsim.settings import MpirunSettings, RunSettings, SbatchSettings, SrunSettings
from smartsim.status import SmartSimStatus
# --- IMPORTS ---

import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

ERRORS = {
    "TypeError": TypeError, "ValueError": ValueError, "FileExistsError": FileExistsError,
    "FileNotFoundError": FileNotFoundError, "AttributeError": AttributeError,
    "SmartSimError": SmartSimError, "SSUnsupportedError": SSUnsupportedError,
    "UserStrategyError": UserStrategyError, "EntityExistsError": EntityExistsError,
    "LauncherError": LauncherError,
}
seen = {}


def case(name):
    def record(fn):
        try:
            seen[name] = {"value": fn()}
        except Exception as exc:  # noqa: BLE001 - the class is the observation
            seen[name] = {"raises": sorted(k for k, v in ERRORS.items() if isinstance(exc, v))}
        return fn
    return record


root = sys.argv[1]
os.makedirs(root, exist_ok=True)
exp = Experiment("probe", exp_path=root, launcher="local")


@case("srun_setters")
def _():
    rs = SrunSettings("python")
    rs.set_nodes(5)
    rs.set_cpus_per_task(2)
    rs.set_tasks(100)
    rs.set_tasks_per_node(20)
    rs.set_hostlist(["a", "b"])
    rs.set_node_feature("P100")
    rs.set_cpu_bindings([1, 2])
    rs.set_memory_per_node(8000)
    rs.set_broadcast("/tmp/x")
    rs.set_verbose_launch(True)
    rs.set_time(hours=1, minutes=31, seconds=1845)
    rs.set("exclusive")
    rs.set("--account", "A1")
    rs.set("chdir", "/elsewhere")
    return [rs.run_args, rs.format_run_args()]


@case("srun_env")
def _():
    rs = SrunSettings("python", env_vars={"A": "1", "KEYS": "x,y"})
    return [rs.format_env_vars(), list(rs.format_comma_sep_env_vars())]


@case("mpirun")
def _():
    rs = MpirunSettings("python", run_args={"map-by": "ppr:1:node"})
    rs.set_tasks(4)
    rs.set_tasks_per_node(2)
    rs.set_cpus_per_task(1)
    rs.set_hostlist("h1")
    rs.set_time(minutes=1, seconds=12)
    rs.set("wd", "/elsewhere")
    rs.update_env({"X": 1})
    return [rs.run_args, rs.format_run_args(), rs.format_env_vars(), os.path.basename(rs.run_command)]


@case("plain_settings")
def _():
    rs = RunSettings("echo", exe_args="a b", run_command="mpirun", run_args={"-np": 2})
    rs.set("   --a-mess    ", "5")
    rs.set_nodes(3)  # not implemented here: a warning, nothing set
    rs.env_vars = {"A": "a", "B": None}
    return [rs.exe_args, rs.run_args, rs.format_run_args(), rs.format_env_vars(),
            os.path.basename(rs.exe[0]), os.path.basename(rs.run_command)]


@case("exe_args_dict")
def _():
    return RunSettings("python", exe_args={"a": "b"}).exe_args


@case("set_int_value")
def _():
    return RunSettings("python").set("key", 5)


@case("update_env_none")
def _():
    return RunSettings("python").update_env({"A": None})


@case("srun_bad_count")
def _():
    return SrunSettings("python").set_tasks("not an int")


@case("hostlist_type")
def _():
    return SrunSettings("python").set_hostlist([5])


@case("sbatch")
def _():
    bs = SbatchSettings(nodes=3, time="10:00:00", account="acc", batch_args={"exclusive": None})
    bs.set_partition("debug")
    bs.set_cpus_per_task(2)
    return [bs.batch_args, bs.format_batch_args()]


@case("ensemble_step_args")
def _():
    rs = RunSettings("python", exe_args="sleep.py")
    ens = Ensemble("step", {"H": [5, 6], "g_param": ["a", "b"]}, params_as_args=["H", "g_param"],
                   run_settings=rs, perm_strat="step")
    return [[m.name, m.params, m.run_settings.exe_args, m.query_key_prefixing()] for m in ens]


@case("ensemble_getitem")
def _():
    ens = exp.create_ensemble("reps", run_settings=RunSettings("python"), replicas=3)
    return [ens["reps_1"].name, ens["nope"], os.path.relpath(ens["reps_2"].path, root), ens.type]


@case("ensemble_unknown_strategy")
def _():
    return Ensemble("e", {}, run_settings=RunSettings("python"), perm_strat="nope")


@case("ensemble_user_strategy")
def _():
    return Ensemble("e", {"h": [1, 2]}, run_settings=RunSettings("python"),
                    perm_strat=lambda names, values, n=0: -1)


@case("ensemble_param_type")
def _():
    return Ensemble("e", {"h": {"x": 1}}, run_settings=RunSettings("python"))


@case("ensemble_add_model_type")
def _():
    return Ensemble("e", {"h": 1}, run_settings=RunSettings("python")).add_model("model")


@case("ensemble_no_settings")
def _():
    return exp.create_ensemble("empty")


@case("model_params")
def _():
    return Model("m", {"a": 1, "b": 2.5, "c": "x"}, RunSettings("python")).params


@case("model_bad_param")
def _():
    return Model("m", {"a": [1]}, RunSettings("python"))


@case("model_default_path")
def _():
    model = exp.create_model("modelpath", RunSettings("python"))
    return os.path.relpath(model.path, root)


@case("model_no_name")
def _():
    return exp.create_model(None, RunSettings("python"))


@case("incoming_twice")
def _():
    a = exp.create_model("producer", RunSettings("python"))
    b = exp.create_model("consumer", RunSettings("python"))
    b.register_incoming_entity(a)
    return b.register_incoming_entity(a)


@case("generate_twice")
def _():
    model = exp.create_model("gen", RunSettings("python"))
    exp.generate(model)
    return exp.generate(model)


@case("stop_wrong_type")
def _():
    return exp.stop("model")


@case("finished_never_started")
def _():
    return exp.finished(exp.create_model("never", RunSettings("python")))


@case("run_and_summary")
def _():
    model = exp.create_model("echo", RunSettings("echo", "hello"))
    exp.start(model)
    first = exp.get_status(model)[0]
    lines = exp.summary(style="plain").splitlines()
    headers = ["Index", *lines[0].split()]
    row = dict(zip(headers, lines[-1].split(), strict=False))
    out = open(os.path.join(model.path, "echo.out")).read()
    return [first == SmartSimStatus.STATUS_COMPLETED, str(first.value), headers,
            [row["Index"], row["Name"], row["Entity-Type"], row["RunID"], row["Status"],
             row["Returncode"]], out, os.path.relpath(model.path, root)]


print("RESULT:" + json.dumps(seen, sort_keys=True, default=str))
