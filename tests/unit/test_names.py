"""Names that could escape a directory or break a command are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from sscontainer import Experiment
from sscontainer.errors import EntityExistsError, InvalidNameError, MissingFileError, SSConfigError
from sscontainer.names import validate_name

BAD = ["", ".", "..", "../up", "a/b", "a b", "tab\there", "new\nline", "nul\0", "ünï", "$(x)", ";"]


@pytest.mark.parametrize("name", BAD)
def test_bad_names(name: str) -> None:
    with pytest.raises(InvalidNameError):
        validate_name(name)


@pytest.mark.parametrize("name", ["model", "sweep_1", "a.b-c", "X9"])
def test_good_names(name: str) -> None:
    assert validate_name(name) == name


def test_non_string_name() -> None:
    with pytest.raises(InvalidNameError, match="string"):
        validate_name(3)


@pytest.mark.parametrize("name", BAD)
def test_model_and_experiment_names(name: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidNameError):
        Experiment(name, exp_path=str(tmp_path))
    exp = Experiment("ok", exp_path=str(tmp_path))
    with pytest.raises(InvalidNameError):
        exp.create_model(name, exp.create_run_settings("python3"))


def test_duplicate_names(tmp_path: Path) -> None:
    exp = Experiment("ok", exp_path=str(tmp_path))
    rs = exp.create_run_settings("python3")
    exp.create_model("m", rs)
    with pytest.raises(EntityExistsError):
        exp.create_model("m", rs)
    exp.create_ensemble("ens", params={"A": [1, 2]}, run_settings=rs)
    with pytest.raises(EntityExistsError, match="ens_1"):
        exp.create_model("ens_1", rs)


def test_missing_files_and_bad_params(tmp_path: Path) -> None:
    exp = Experiment("ok", exp_path=str(tmp_path))
    model = exp.create_model("m", exp.create_run_settings("python3"))
    with pytest.raises(MissingFileError, match="does not exist"):
        model.attach_generator_files(to_copy=[str(tmp_path / "missing.txt")])
    with pytest.raises(SSConfigError, match="param"):
        exp.create_model("p", exp.create_run_settings("python3"), params={"A": [1, 2]})
    with pytest.raises(SSConfigError, match="RunSettings"):
        exp.create_model("q", "python3")  # type: ignore[arg-type]


def test_unknown_launcher(tmp_path: Path) -> None:
    with pytest.raises(SSConfigError, match="launcher"):
        Experiment("ok", exp_path=str(tmp_path), launcher="pbs-typo")
