"""SmartSim 0.8's driver API on entities and the experiment's factories (no processes run).

Each test follows a behaviour SmartSim documents or tests (its tests/test_*.py at
v0.8.0): names, defaults, return types and the exception classes raised.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sscontainer import Experiment, RunSettings, SrunSettings
from sscontainer.entities.ensemble import Ensemble
from sscontainer.entities.model import Model
from sscontainer.entities.orchestrator import Orchestrator
from sscontainer.errors import (
    EntityExistsError,
    SmartSimError,
    SSConfigError,
    SSUnsupportedError,
    UserStrategyError,
)

RS = RunSettings("python", exe_args="sleep.py")


@pytest.fixture
def exp(tmp_path: Path) -> Experiment:
    return Experiment("api", exp_path=str(tmp_path))


# --- Experiment --------------------------------------------------------------------------
def test_entities_default_to_exp_path_and_relative_paths_are_absolute(
    exp: Experiment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = exp.create_model("m", RS)
    assert model.path == str(tmp_path / "m")
    ens = exp.create_ensemble("ens", run_settings=RS, replicas=2)
    assert ens.path == str(tmp_path / "ens")
    assert [m.path for m in ens] == [str(tmp_path / "ens" / "ens_0"), str(tmp_path / "ens" / "ens_1")]
    db = exp.create_database()
    assert db.path == str(tmp_path / "orchestrator") and db.checkpoint_file.endswith("smartsim_db.dat")
    monkeypatch.chdir(tmp_path)
    rel = exp.create_model("rel", RS, path="./relative_dir")
    assert rel.path == str(tmp_path / "relative_dir")
    assert not (tmp_path / "relative_dir").exists()  # made by start, not before


def test_experiment_argument_errors(tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        Experiment("e", ["not-a-path"])  # type: ignore[arg-type]
    for launcher in ("cobalt", "pbs", "lsf", "no-such-launcher"):
        with pytest.raises(SSUnsupportedError):
            Experiment("e", str(tmp_path), launcher=launcher)
    exp = Experiment("e", str(tmp_path))
    assert str(exp) == "e"
    with pytest.raises(AttributeError):
        exp.create_model(None, RS)  # type: ignore[arg-type]
    with pytest.raises(AttributeError):
        exp.create_ensemble(None, run_settings=RS, replicas=2)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        exp.stop("model")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        exp.get_status([])  # type: ignore[arg-type]


def test_status_and_finished_before_launch(exp: Experiment) -> None:
    model = Model("name", {}, "./", RunSettings("python"))  # type: ignore[arg-type]
    assert model.run_settings.exe  # SmartSim's own tests pass path and settings swapped
    from sscontainer.status import SmartSimStatus

    assert exp.get_status(model)[0] == SmartSimStatus.STATUS_NEVER_STARTED
    with pytest.raises(ValueError):
        exp.finished(model)
    with pytest.raises(TypeError):
        exp.finished(exp.create_database())  # type: ignore[arg-type]


def test_bad_ensembles_are_smartsim_errors(exp: Experiment) -> None:
    with pytest.raises(SmartSimError):
        exp.create_ensemble("no_rs", {"param1": 1})
    with pytest.raises(SmartSimError):
        exp.create_ensemble("no_params", run_settings=RunSettings("python"))
    with pytest.raises(SmartSimError):
        exp.create_ensemble("nothing")


def test_duplicate_database_identifier_is_allowed_until_start(exp: Experiment) -> None:
    first = exp.create_database(port=6780, db_identifier="same")
    second = exp.create_database(port=6781, db_identifier="same")
    assert first.name == second.name == "same" and exp.db_identifiers == {"same"}
    with pytest.raises(EntityExistsError):
        exp.create_model("same", RS)  # entity names stay unique


# --- Model -------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [3, np.float32(0.6), "x", 2.5])
def test_good_model_params(value: Any) -> None:
    model = Model("m", {"foo": value}, RS)
    assert model.params == {"foo": str(value)}


@pytest.mark.parametrize("bad", [["eggs"], {"n": 5}, object])
def test_bad_model_params_are_type_errors(bad: Any) -> None:
    with pytest.raises(TypeError):
        Model("m", {"foo": bad}, RS)


def test_register_incoming_entity_twice(exp: Experiment) -> None:
    ens = exp.create_ensemble("ensemble", replicas=1, run_settings=RS)
    model = exp.create_model("model", RS)
    model.register_incoming_entity(ens["ensemble_0"])  # type: ignore[arg-type]
    with pytest.raises(EntityExistsError):
        model.register_incoming_entity(ens["ensemble_0"])  # type: ignore[arg-type]
    assert [e.name for e in model.incoming_entities] == ["ensemble_0"]


def test_print_attached_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in.txt"
    src.write_text("X = ;X;")
    model = Model("m", {"X": 1}, RS)
    model.print_attached_files()
    assert "No file attached" in capsys.readouterr().out
    model.attach_generator_files(to_configure=[str(src)])
    model.print_attached_files()
    assert str(src) in capsys.readouterr().out


def test_colocate_settings_and_kwargs(exp: Experiment) -> None:
    model = exp.create_model("colo", RunSettings("python"))
    model.colocate_db_tcp(port=6790, db_cpus=2, maxclients=100, threads_per_queue=1)
    settings = model.run_settings.colocated_db_settings
    assert settings is not None and settings["port"] == 6790 and settings["cpus"] == 2
    assert settings["extra_db_args"] == {"maxclients": "100"}
    assert settings["rai_args"]["threads_per_queue"] == 1
    assert model.colocated  # truthy, as SmartSim's bool property
    uds = exp.create_model("uds", RunSettings("python"))
    uds.colocate_db_uds(port=1234, inter_op_parallelism=2)  # port: ignored, as SmartSim does
    assert uds.colocated is not None and uds.colocated.transport == "uds"
    assert uds.colocated.ml_threads == {"inter_op_threads": 2}
    typo = exp.create_model("typo", RunSettings("python"))
    with pytest.raises(SSUnsupportedError, match="maxclientz"):
        typo.colocate_db_uds(maxclientz=5)
    with pytest.raises(SSConfigError):  # the YAML loader's except clause catches it too
        typo.colocate_db_tcp(not_a_setting=1)
    with pytest.raises(SSUnsupportedError, match="limit_app_cpus"):
        typo.colocate_db_tcp(limit_app_cpus=True)
    assert typo.colocated is None


def test_colocated_mpmd_is_refused(exp: Experiment) -> None:
    rs = SrunSettings("python")
    rs.make_mpmd(SrunSettings("python"))
    model = exp.create_model("mpmd", rs)
    with pytest.raises(SSUnsupportedError), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.colocate_db()


def test_colocate_db_warns_future_and_deprecation(exp: Experiment) -> None:
    model = exp.create_model("dep", RunSettings("python"))
    with pytest.warns(FutureWarning):
        model.colocate_db(port=6791)
    other = exp.create_model("dep2", RunSettings("python"))
    with pytest.warns(DeprecationWarning):
        other.colocate_db(port=6792)


# --- Ensemble ------------------------------------------------------------------------------
def test_perm_strat_spellings_and_getitem() -> None:
    ens = Ensemble("all_perm", {"h": [5, 6]}, run_settings=RS, perm_strat="all_perm")
    assert [m.params["h"] for m in ens.entities] == ["5", "6"]
    assert ens["all_perm_1"] is ens.models[1] and ens["missing"] is None
    step = Ensemble("step", {"h": [5, 6], "g": [7, 8]}, run_settings=RS, perm_strategy="step")
    assert [m.params for m in step] == [{"h": "5", "g": "7"}, {"h": "6", "g": "8"}]
    assert ens.type == "Ensemble" and ens.batch is False


def test_params_as_args_per_member() -> None:
    params = {"H": [5, 6], "g_param": ["a", "b"], "h": [5, 6]}
    ens = Ensemble("step", params, params_as_args=["H", "g_param"], run_settings=RS.copy(),
                   perm_strat="step")
    assert ens.entities[0].run_settings.exe_args == ["sleep.py", "-H", "5", "--g_param=a"]
    assert ens.entities[1].run_settings.exe_args == ["sleep.py", "-H", "6", "--g_param=b"]
    assert ens.entities[1].params == {"H": "6", "g_param": "b", "h": "6"}
    assert RS.exe_args == ["sleep.py"]  # the template settings are untouched


def test_strategy_errors() -> None:
    with pytest.raises(SSUnsupportedError):
        Ensemble("e", {}, run_settings=RS, perm_strat="not-a-strategy")
    with pytest.raises(UserStrategyError):
        Ensemble("e", {"h": [2, 3]}, run_settings=RS, perm_strat=lambda n, v, m=0: -1)
    with pytest.raises(UserStrategyError):
        Ensemble("e", {"h": [2, 3]}, run_settings=RS, perm_strat=lambda n, v, m=0: [v])
    with pytest.raises(TypeError):
        Ensemble("e", {"h": {"h": [5]}}, run_settings=RS)


def test_add_model_and_set_path(tmp_path: Path) -> None:
    ens = Ensemble("ens", {"h": 5}, run_settings=RS)
    with pytest.raises(TypeError):
        ens.add_model("model")  # type: ignore[arg-type]
    ens.add_model(Model("identical_name", {"h": 5}, "", RS))  # type: ignore[arg-type]
    with pytest.raises(EntityExistsError):
        ens.add_model(Model("identical_name", {"z": 6}, RS))
    assert ens.query_key_prefixing() is False  # the added model does not prefix
    ens.enable_key_prefixing()
    assert ens.query_key_prefixing() is True
    ens.set_path(str(tmp_path))
    assert {m.path for m in ens} == {str(tmp_path)}


def test_ensemble_print_attached_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "data.bin"
    src.write_bytes(b"x")
    ens = Ensemble("ens", {"h": [1, 2]}, run_settings=RS)
    ens.attach_generator_files(to_copy=[str(src)])
    ens.print_attached_files()
    out = capsys.readouterr().out
    assert "ens_0" in out and "ens_1" in out and out.count(str(src)) == 2


# --- Orchestrator --------------------------------------------------------------------------
def test_orchestrator_parameters() -> None:
    db = Orchestrator(db_nodes=1, threads_per_queue=2, inter_op_threads=3, intra_op_threads=4)
    assert (db.queue_threads, db.inter_threads, db.intra_threads) == (2, 3, 4)
    assert db.ports == [6379] and not db.is_active()
    with pytest.raises(SmartSimError):
        db.get_address()
    db.set_path("some/where")
    assert db.path == os.path.abspath("some/where")
    assert Orchestrator(6780).port == 6780  # a port given first, as SmartSim's tests do


def test_orchestrator_kwargs_are_checked_up_front(exp: Experiment) -> None:
    db = exp.create_database(port=6782, maxmemory="1gb", maxmemory_policy="allkeys-lru")
    assert db.server_conf == {"maxmemory": "1gb", "maxmemory-policy": "allkeys-lru"}
    with pytest.raises(SSUnsupportedError, match="bogus_arg"):
        exp.create_database(port=6783, db_identifier="other", bogus_arg=2)
    with pytest.raises(SSUnsupportedError):
        Orchestrator(maxclientz=5)
    # SmartSim arguments for other workload managers are accepted and unused here
    Orchestrator(alloc="123", account="acc", time="01:00:00", single_cmd=True, queue="q")


def test_orchestrator_run_and_batch_args(caplog: pytest.LogCaptureFixture) -> None:
    db = Orchestrator(port=6784, launcher="slurm", db_nodes=3, batch=False)
    db.set_run_arg("account", "ACCOUNT")
    db.set_run_arg("exclusive")
    assert db.run_args == {"account": "ACCOUNT", "exclusive": None}
    db.set_run_arg("chdir", "/elsewhere")  # reserved: the launcher sets it
    assert "chdir" not in db.run_args
    with pytest.raises(SmartSimError):
        db.set_batch_arg("account", "ACCOUNT")
    batched = Orchestrator(port=6784, launcher="slurm", db_nodes=3, batch=True, time="00:10:00")
    batched.set_batch_arg("account", "ACCOUNT")
    batched.set_batch_arg("N", "another")
    assert batched.batch_settings is not None
    assert batched.batch_settings.batch_args["account"] == "ACCOUNT"
    assert "N" not in batched.batch_settings.batch_args
    assert batched.shard_batch_args() == ["--time=00:10:00", "--account=ACCOUNT"]
    with pytest.raises(SmartSimError):
        Orchestrator(batch=True)  # the local launcher has no batch system


# --- names a SmartSim driver imports --------------------------------------------------------
def test_smartsim_module_paths() -> None:
    from sscontainer import Experiment as E
    from sscontainer.database import Orchestrator as O
    from sscontainer.entity import Ensemble as En
    from sscontainer.entity import Model as M
    from sscontainer.error import SSUnsupportedError as U
    from sscontainer.error.errors import SSConfigError as C
    from sscontainer.log import get_logger
    from sscontainer.settings import (
        Container,
        MpiexecSettings,
        MpirunSettings,
        OrterunSettings,
        SbatchSettings,
        Singularity,
    )
    from sscontainer.settings import (
        RunSettings as R,
    )
    from sscontainer.settings import (
        SrunSettings as S,
    )
    from sscontainer.settings.base import BatchSettings, SettingsBase
    from sscontainer.status import STATUS_COMPLETED, SmartSimStatus, Status

    names = (E, O, En, M, U, C, get_logger, Container, MpiexecSettings, MpirunSettings,
             OrterunSettings, R, SbatchSettings, Singularity, S, BatchSettings, SettingsBase)
    assert all(callable(name) for name in names)
    assert SmartSimStatus.STATUS_COMPLETED is Status.COMPLETED is STATUS_COMPLETED
    assert SmartSimStatus("Running") == SmartSimStatus.STATUS_RUNNING


def test_create_database_path_and_generate_verbose(
    exp: Experiment, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = exp.create_database(port=6785, path=str(tmp_path / "elsewhere" / "db"))
    assert db.path == str(tmp_path / "elsewhere" / "db")
    src = tmp_path / "in.txt"
    src.write_text("T = ;T;\n")
    ens = exp.create_ensemble("gen", params={"T": [1, 2]}, run_settings=RS)
    ens.attach_generator_files(to_configure=[str(src)])
    import logging

    logger = logging.getLogger("sscontainer.experiment")
    logger.addHandler(caplog.handler)
    caplog.set_level(logging.INFO, logger="sscontainer.experiment")
    try:
        exp.generate(db, ens, verbose=True)
    finally:
        logger.removeHandler(caplog.handler)
    assert "Configured model gen_0 with params T=1" in caplog.text
    assert (tmp_path / "gen" / "gen_1" / "in.txt").read_text() == "T = 2\n"
    assert db.path == str(tmp_path / "orchestrator")  # generate places it in the experiment
    with pytest.raises(FileExistsError):
        exp.generate(ens)
