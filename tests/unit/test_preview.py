"""Experiment.preview: SmartSim's sections, formats and verbosity levels, plus what
sscontainer adds (start order, ML assets, images and mounts, the sbatch script)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from sscontainer import Experiment
from sscontainer.errors import PreviewFormatError
from sscontainer.settings.containers import ContainerSettings

PY = sys.executable


def _experiment(tmp_path: Path, launcher: str = "local") -> tuple[Experiment, list[object]]:
    exp = Experiment("prev", exp_path=str(tmp_path), launcher=launcher)
    db = exp.create_database(port=6790)
    model = exp.create_model(
        "hello", exp.create_run_settings(PY, ["hello.py", "--n", "2"], env_vars={"OMP": "1"}),
        params={"port": 6379, "password": "unbreakable"},
    )
    model.enable_key_prefixing()
    (tmp_path / "cnn.onnx").write_bytes(b"not read by a preview")
    model.add_ml_model("cnn", "ONNX", model_path=str(tmp_path / "cnn.onnx"), inputs=["x"])
    model.add_script("pre", script="def negate(x):\n    return torch.neg(x)\n")
    ens = exp.create_ensemble("ens", params={"T": [1, 2, 3]},
                              run_settings=exp.create_run_settings(PY, "sim.py"))
    return exp, [db, model, ens]


def test_sections_at_info(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    exp, entities = _experiment(tmp_path)
    text = exp.preview(*entities)
    assert capsys.readouterr().out.strip() == text.strip()
    for expected in (
        "=== Experiment Overview ===", "Experiment Name: prev", f"Experiment Path: {tmp_path}",
        "Launcher: local", "=== Entity Preview ===", "== Orchestrators ==",
        "= Database Identifier: orchestrator =", "Shards: 1", "TCP/IP Port(s)", "6790",
        "Network Interface: lo", "Type: Standalone", "== Models ==", "= Model Name: hello =",
        "Model Parameters:", "port: 6379", "password: unbreakable", "Key Prefix: hello",
        "ML Models:", "Name: cnn", "Backend: ONNX", "Torch Scripts:", "Name: pre",
        "== Ensembles ==", "= Ensemble Name: ens =", "Members: 3", "Client Configuration",
        "Outgoing Key Collision Prevention (Key Prefixing)", "Tensors: On",
    ):
        assert expected in text, expected
    # info: only what the user set; of three members only the first and last
    assert "Executable" not in text and "Run Command" not in text and "Environment" not in text
    assert "ens_0" in text and "ens_2" in text and "ens_1" not in text


def test_debug_and_developer_add_derived_fields(tmp_path: Path) -> None:
    exp, entities = _experiment(tmp_path)
    debug = exp.preview(*entities, verbosity_level="debug")
    for expected in ("Executable: " + PY, "Executable Arguments:", "hello.py", "Working Directory:",
                     "Environment:", "OMP=1", "SSKEYOUT=hello", "Ensemble Parameters:",
                     "Devices Per Node", "Inputs:"):
        assert expected in debug, expected
    assert "Launch Command" not in debug
    developer = exp.preview(*entities, verbosity_level="developer")
    assert f"Launch Command: {PY} hello.py --n 2" in developer
    assert "ens_1" in developer  # every member


def test_format_verbosity_and_file(tmp_path: Path) -> None:
    exp, entities = _experiment(tmp_path)
    with pytest.raises(PreviewFormatError):
        exp.preview(*entities, output_format="html")
    with pytest.raises(ValueError):
        exp.preview(*entities, verbosity_level="loud")
    out = tmp_path / "preview.txt"
    exp.preview(*entities, output_filename=str(out))
    exp.preview(*entities, output_filename=str(out))  # never overwrites: a numbered sibling
    assert "= Model Name: hello =" in out.read_text()
    assert (tmp_path / "preview_01.txt").exists()


def test_start_order_from_after(tmp_path: Path) -> None:
    exp = Experiment("dag", exp_path=str(tmp_path))
    rs = exp.create_run_settings(PY)
    models = [exp.create_model(name, rs.copy()) for name in ("a", "b", "c")]
    text = exp.preview(*models, after={"a": [], "b": [], "c": ["a", "b"]})
    assert "== Start Order ==\n    1. a, b\n    2. c" in text
    assert "Starts After: a, b" in text


def test_docker_shows_images_and_mounts(tmp_path: Path) -> None:
    exp = Experiment("dock", exp_path=str(tmp_path), launcher="docker")
    model = exp.create_model("app", exp.create_run_settings("python3", "app.py"))
    model.colocate_db_uds()
    image = exp.create_model("img", exp.create_run_settings(
        "python3", container=ContainerSettings(image="python:3.11-slim")))
    text = exp.preview(model, image, verbosity_level="debug")
    assert "Container Runtime: docker" in text and "Image: python:3.11-slim" in text
    assert "built by sscontainer from" in text
    assert f"{model.path} -> {model.path}" in text
    assert "volume ssc-dock-app -> /run/sscontainer" in text


def test_slurm_shows_the_sbatch_script(tmp_path: Path) -> None:
    exp = Experiment("slu", exp_path=str(tmp_path), launcher="slurm")
    rs = exp.create_run_settings(PY, "app.py")
    rs.set_tasks(2)
    model = exp.create_model("app", rs, batch_settings=exp.create_batch_settings(time="00:05:00"))
    text = exp.preview(model, verbosity_level="developer")
    assert "Batch Script:" in text and "#!" in text and "#SBATCH" in text
    assert "--time=00:05:00" in text and "--ntasks=2" in text
