"""The experiment YAML: every error names its place in the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from sscontainer.cli.loader import load_plan
from sscontainer.errors import SchemaError


def write(tmp_path: Path, doc: Any) -> str:
    path = tmp_path / "experiment.yaml"
    path.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc))
    return str(path)


def errors_of(tmp_path: Path, doc: Any) -> list[str]:
    with pytest.raises(SchemaError) as info:
        load_plan(write(tmp_path, doc))
    return info.value.errors


def test_valid_document_builds_the_plan(tmp_path: Path) -> None:
    (tmp_path / "in.txt").write_text("T=;T;")
    plan = load_plan(
        write(
            tmp_path,
            {
                "name": "exp",
                "models": [
                    {"name": "m", "exe": "python3", "args": ["-c", "pass"], "params": {"T": 1},
                     "files": {"configure": ["in.txt"]}, "run": {"env": {"X": 1}}},
                    {"name": "after_m", "exe": "python3", "after": ["m"], "incoming": ["m"]},
                ],
                "ensembles": [
                    {"name": "sweep", "exe": "python3", "params": {"T": [1, 2]}, "strategy": "step"}
                ],
            },
        )
    )
    assert list(plan.entities) == ["m", "after_m", "sweep"]
    assert plan.after["after_m"] == ["m"]
    assert plan.exp.exp_path == str(tmp_path / "exp")
    model = plan.entities["m"]
    assert model.run_settings.env_vars == {"X": "1"}  # type: ignore[union-attr]
    assert model.path == str(tmp_path / "exp" / "m")


@pytest.mark.parametrize(
    "doc,expected",
    [
        ({"models": []}, "missing required field 'name'"),
        ({"name": "../x", "models": []}, "name: '../x' is not a valid name"),
        ({"name": "e", "models": [{"name": "m"}]}, "models[0]: missing required field 'exe'"),
        ({"name": "e", "models": [{"name": "m", "exe": "python3", "params": {"A": [1]}}]},
         "models[0].params.A: expected a string or number"),
        ({"name": "e", "models": [{"name": "m", "exe": "python3", "colour": 1}]},
         "models[0].colour: unknown field"),
        ({"name": "e", "models": [{"name": "m", "exe": "python3", "run": {"nodes": 0}}]},
         "models[0].run.nodes: expected a positive integer"),
        ({"name": "e", "models": [{"name": "m", "exe": "python3", "after": ["ghost"]}]},
         "models[0].after[0]: no model or ensemble named 'ghost'"),
        ({"name": "e", "launcher": "pbs", "models": [{"name": "m", "exe": "python3"}]},
         "launcher: 'pbs' is not one of"),
        ({"name": "e", "ensembles": [{"name": "s", "exe": "python3", "params": {"A": [1]},
                                      "strategy": "zigzag"}]},
         "ensembles[0].strategy: 'zigzag' is not one of"),
        ({"name": "e", "ensembles": [{"name": "s", "exe": "python3"}]},
         "ensembles[0]: give 'params' or 'replicas'"),
        ({"name": "e", "models": [{"name": "m", "exe": "python3"}, {"name": "m", "exe": "python3"}]},
         "models[1].name: 'm' is already used by models[0].name"),
        ({"name": "e"}, "no models or ensembles"),
        ([1, 2], "expected a mapping"),
    ],
)
def test_errors_name_their_place(tmp_path: Path, doc: Any, expected: str) -> None:
    errors = errors_of(tmp_path, doc)
    assert any(expected in e for e in errors), errors


def test_every_error_is_reported_at_once(tmp_path: Path) -> None:
    errors = errors_of(
        tmp_path,
        {"name": "e", "models": [{"name": "a b", "exe": 3}, {"exe": "python3", "run": {"walltime": 5}}]},
    )
    assert len(errors) >= 4
    assert any(e.startswith("models[0].name") for e in errors)
    assert any(e.startswith("models[0].exe") for e in errors)
    assert any(e.startswith("models[1]: missing") for e in errors)
    assert any(e.startswith("models[1].run.walltime") for e in errors)


def test_cycle_detected(tmp_path: Path) -> None:
    errors = errors_of(
        tmp_path,
        {"name": "e", "models": [
            {"name": "a", "exe": "python3", "after": ["b"]},
            {"name": "b", "exe": "python3", "after": ["a"]},
        ]},
    )
    assert any("dependency cycle" in e for e in errors)


def test_api_errors_carry_their_place(tmp_path: Path) -> None:
    errors = errors_of(
        tmp_path,
        {"name": "e", "models": [
            {"name": "ok", "exe": "python3"},
            {"name": "m", "exe": "no-such-program-xyz"},
            {"name": "f", "exe": "python3", "files": {"copy": ["missing.py"]}},
        ]},
    )
    assert any(e.startswith("models[1] (m):") and "not found on PATH" in e for e in errors)
    assert any(e.startswith("models[2] (f):") and "missing.py" in e for e in errors)


def test_bad_yaml_names_the_line(tmp_path: Path) -> None:
    errors = errors_of(tmp_path, "name: e\nmodels: [\n  - {name: m\n")
    assert len(errors) == 1 and "line" in errors[0]
