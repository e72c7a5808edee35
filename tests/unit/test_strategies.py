"""Ensemble parameter strategies and member creation."""

from __future__ import annotations

from typing import Any

import pytest

from sscontainer import Experiment
from sscontainer.entities.strategies import expand_params
from sscontainer.errors import EntityExistsError, SSConfigError


def test_all_perm_is_the_product() -> None:
    sets = expand_params({"A": [1, 2], "B": ["x", "y", "z"]}, "all_perm")
    assert len(sets) == 6
    assert {(s["A"], s["B"]) for s in sets} == {(a, b) for a in (1, 2) for b in "xyz"}


def test_step_is_a_zip_and_needs_equal_lengths() -> None:
    assert expand_params({"A": [1, 2], "B": [3, 4]}, "step") == [
        {"A": 1, "B": 3},
        {"A": 2, "B": 4},
    ]
    with pytest.raises(SSConfigError, match="as many values"):
        expand_params({"A": [1, 2], "B": [3]}, "step")


def test_random_draws_distinct_combinations() -> None:
    sets = expand_params({"A": list(range(5)), "B": list(range(5))}, "random", n_models=7)
    assert len(sets) == 7
    assert len({(s["A"], s["B"]) for s in sets}) == 7
    # as SmartSim: without n_models, or with more than there are, every combination
    assert expand_params({"A": [1, 2]}, "random", n_models=3) == [{"A": 1}, {"A": 2}]
    assert expand_params({"A": [1, 2]}, "random") == [{"A": 1}, {"A": 2}]
    with pytest.raises(SSConfigError, match="n_models"):
        expand_params({"A": [1, 2]}, "random", n_models=-1)


def test_scalar_param_is_one_value() -> None:
    assert expand_params({"A": 3, "B": [1, 2]}, "all_perm") == [
        {"A": 3, "B": 1},
        {"A": 3, "B": 2},
    ]


def test_callable_strategy() -> None:
    def firsts(names: list[str], values: list[list[Any]], n: int | None) -> list[dict[str, Any]]:
        return [{name: vals[0] for name, vals in zip(names, values, strict=False)}]

    assert expand_params({"A": [1, 2], "B": [3]}, firsts) == [{"A": 1, "B": 3}]


def test_bad_strategy_named() -> None:
    with pytest.raises(SSConfigError, match="all_perm"):
        expand_params({"A": [1]}, "everything")


def test_ensemble_members(tmp_path: Any) -> None:
    exp = Experiment("e", exp_path=str(tmp_path))
    rs = exp.create_run_settings("python3", "sim.py")
    ens = exp.create_ensemble("sweep", params={"T": [1, 2, 3]}, run_settings=rs)
    assert [m.name for m in ens] == ["sweep_0", "sweep_1", "sweep_2"]
    assert [m.params["T"] for m in ens] == ["1", "2", "3"]
    assert all(m.query_key_prefixing() for m in ens)
    # members own their settings: changing one does not change the others
    ens.models[0].run_settings.add_exe_args("--extra")
    assert "--extra" not in ens.models[1].run_settings.exe_args


def test_replicas_and_add_model(tmp_path: Any) -> None:
    exp = Experiment("e", exp_path=str(tmp_path))
    rs = exp.create_run_settings("python3", "sim.py")
    ens = exp.create_ensemble("reps", run_settings=rs, replicas=4)
    assert len(ens) == 4
    extra = exp.create_model("extra", rs)
    ens.add_model(extra)
    assert len(ens) == 5
    with pytest.raises(EntityExistsError):
        ens.add_model(extra)


def test_empty_ensemble_rejected(tmp_path: Any) -> None:
    exp = Experiment("e", exp_path=str(tmp_path))
    with pytest.raises(SSConfigError, match="params or replicas"):
        exp.create_ensemble("empty")
