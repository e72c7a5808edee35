"""Hostile input through the YAML schema and the API: one typed error naming the problem
(and the limit, where one applies), and nothing created before it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from sscontainer import Experiment
from sscontainer.cli.loader import load_plan
from sscontainer.cli.yaml_reader import read_document
from sscontainer.errors import ArgumentTypeError, SchemaError, SSConfigError, SSContainerError
from sscontainer.limits import DEFAULT_MAX_MEMBERS, MAX_NAME_BYTES

PY = "python3"


def write(tmp_path: Path, doc: Any) -> str:
    path = tmp_path / "experiment.yaml"
    path.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc))
    return str(path)


def model(**extra: Any) -> dict[str, Any]:
    return {"name": "m", "exe": PY, **extra}


def errors_of(tmp_path: Path, doc: Any) -> list[str]:
    with pytest.raises(SchemaError) as info:
        load_plan(write(tmp_path, doc))
    return info.value.errors


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ({"name": "e" * 300, "models": [model()]}, f"more than the limit of {MAX_NAME_BYTES}"),
        ({"name": "e", "models": [model(name="m" * 300)]}, "more than the limit"),
        ({"name": "e", "models": [model(run={"env": {"A": "x\0y"}})]}, "NUL"),
        ({"name": "e", "models": [model(args=["x\0y"])]}, "NUL"),
        ({"name": "e", "models": [model(params={"A": "x\0"})]}, "NUL"),
        ({"name": "e", "path": "a\0b", "models": [model()]}, "NUL"),
        ({"name": "e", "database": {"config": {"port": "abc"}}, "models": [model()]},
         "database.config.port: 'port' is a setting of its own here"),
        ({"name": "e", "database": {"config": {"maxmemory": [1, 2]}}, "models": [model()]},
         "database.config.maxmemory: expected a string or number"),
        ({"name": "e", "models": [model(colocated_db={"config": {"unix_socket": "/x"}})]},
         "is a setting of its own here"),
        ({"name": "e", "ensembles": [{**model(), "replicas": 10_000_000}]},
         f"more than the limit of {DEFAULT_MAX_MEMBERS}"),
        ({"name": "e", "ensembles": [{**model(), "params": {
            "A": list(range(100)), "B": list(range(100)), "C": list(range(100))}}]},
         "would have 1000000 members"),
        ({"name": "e", "models": [model(name=".sscontainer")]}, "reserved"),
        ({"name": "e", "models": [model(name="images")]}, "reserved"),
        ({"name": "e", "database": {"db_identifier": "images"}, "models": [model()]},
         "reserved"),
        ({"name": "e", "models": [model(run={"walltime": "99:99:99"})]}, "HH:MM:SS"),
    ],
    ids=["long-exp-name", "long-model-name", "nul-env", "nul-arg", "nul-param", "nul-path",
         "config-shadows-port", "config-list", "colocated-config-shadows", "replicas-10M",
         "params-1M", "name-.sscontainer", "name-images", "db-images", "walltime"],
)
def test_bad_documents_give_one_typed_error_naming_the_problem(
    tmp_path: Path, doc: Any, expected: str
) -> None:
    errors = errors_of(tmp_path, doc)
    assert any(expected in e for e in errors), errors
    assert not (tmp_path / "e").exists()  # nothing was created


def test_yaml_nested_20000_levels_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "name: e\nmodels: " + "[" * 20000 + "]" * 20000)
    with pytest.raises(SchemaError, match="nested more than 64 levels"):
        read_document(path)


def test_duplicate_yaml_keys_are_refused_with_both_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "name: e\nmodels: []\nname: f\n")
    with pytest.raises(SchemaError, match=r"key 'name' appears twice \(line 1 and line 3\)"):
        read_document(path)


def test_alias_expansion_is_bounded(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 7)]
    path = write(tmp_path, "\n".join(lines) + "\nname: e\n")
    with pytest.raises(SchemaError, match="expands to more than"):
        read_document(path)


def test_binary_and_huge_files_are_refused(tmp_path: Path) -> None:
    binary = tmp_path / "b.yaml"
    binary.write_bytes(b"\x7fELF\x02\x01\x01\x00\xff\xfe")
    with pytest.raises(SchemaError, match="not a UTF-8 text file"):
        read_document(str(binary))
    huge = tmp_path / "h.yaml"
    huge.write_text("# " + "x" * (2 << 20))
    with pytest.raises(SchemaError, match="more than the limit"):
        read_document(str(huge))


def test_error_messages_stay_short(tmp_path: Path) -> None:
    """A thousand bad values give 20 lines and a count, each line short."""
    doc = {"name": "e", "ensembles": [{**model(), "params": {
        f"P{i}": [[1]] * 5 for i in range(200)}}]}
    errors = errors_of(tmp_path, doc)
    assert len(errors) == 21 and errors[-1].startswith("... and ")
    assert max(len(e) for e in errors) < 300


def test_api_exe_args_of_the_wrong_type(tmp_path: Path) -> None:
    exp = Experiment("e", exp_path=str(tmp_path / "e"))
    with pytest.raises(ArgumentTypeError, match="exe_args must be a string or a list"):
        exp.create_run_settings(PY, exe_args=5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):  # SmartSim's builtin, still
        exp.create_run_settings(PY, exe_args=5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "call",
    [
        lambda exp, rs: exp.create_model("m" * 300, rs),
        lambda exp, rs: exp.create_model("m", rs, params={"A": "x\0"}),
        lambda exp, rs: exp.create_model("m", rs, path="a\0b"),
        lambda exp, rs: exp.create_model(".sscontainer", rs),
        lambda exp, rs: exp.create_model(None, rs),
        lambda exp, rs: exp.create_run_settings(PY, exe_args=["a\0"]),
        lambda exp, rs: exp.create_run_settings(PY, env_vars={"A": "x\0"}),
        lambda exp, rs: exp.create_ensemble("s", params={"A": list(range(10_001))},
                                            run_settings=rs),
        lambda exp, rs: exp.create_ensemble("s", replicas=10_000_000, run_settings=rs),
        lambda exp, rs: exp.create_database(interface=5),
        lambda exp, rs: exp.create_model("m", rs).attach_generator_files(to_copy=5),
    ],
    ids=["long-name", "nul-param", "nul-path", "reserved", "no-name", "nul-arg", "nul-env",
         "members", "replicas", "interface-type", "files-type"],
)
def test_api_bad_input_is_a_typed_error(tmp_path: Path, call: Any) -> None:
    exp = Experiment("e", exp_path=str(tmp_path / "e"))
    rs = exp.create_run_settings(PY)
    with pytest.raises(SSContainerError):
        call(exp, rs)


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("/proc/self/x", "kernel interface"),
        ("/sys/x", "kernel interface"),
        ("FILE", "is not a directory"),
        ("FILE/below", "is a file"),
        ("/".join(["d"] * 2000), "more than the limit"),
        ("x" * 300, "more than the filesystem allows"),
    ],
    ids=["proc", "sys", "existing-file", "under-a-file", "too-long", "component-too-long"],
)
def test_experiment_paths_are_checked_before_anything_is_made(
    tmp_path: Path, where: str, expected: str
) -> None:
    (tmp_path / "FILE").write_text("mine")
    path = where.replace("FILE", str(tmp_path / "FILE"))
    path = path if os.path.isabs(path) else str(tmp_path / path)
    exp = Experiment("e", exp_path=path)
    m = exp.create_model("m", exp.create_run_settings(PY))
    with pytest.raises(SSConfigError, match=expected):
        exp.generate(m)
    with pytest.raises(SSConfigError, match=expected):
        exp.start(m)
    assert (tmp_path / "FILE").read_text() == "mine"


def test_copying_the_project_into_itself_is_refused(tmp_path: Path) -> None:
    (tmp_path / "sim.py").write_text("print(1)")
    doc = {"name": "e", "models": [model(files={"copy": ["."]})]}
    plan = load_plan(write(tmp_path, doc))
    with pytest.raises(SSContainerError, match="copy the experiment into itself"):
        plan.exp.generate(*plan.entities.values())
    assert not (tmp_path / "e" / "m").exists()
