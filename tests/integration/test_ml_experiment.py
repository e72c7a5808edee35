"""Entities with ML assets started by an Experiment: standard and colocated databases, the example."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from sscontainer import Experiment
from sscontainer.db.address import find_free_port
from sscontainer.errors import SSConfigError
from sscontainer.ml.sample_models import IMAGE, onnx_cnn, torch_cnn
from sscontainer.status import Status
from tests.conftest import require_service
from tests.integration.db_fixtures import require_server, short_tmpdir
from tests.integration.ml_models import app_result, expected_scores

REPO = Path(__file__).resolve().parents[2]
NEGATE = "def negate(x):\n\treturn torch.neg(x)\n"
APP = """
import json, sys
import numpy as np
from sscontainer import Client
client = Client(logger_name="app")  # SSDB and SR_DB_TYPE from the environment
x = np.random.default_rng(0).random((2, 1, 28, 28), dtype=np.float32)
client.put_tensor("x", x)
client.run_model("cnn", "x", "scores")
if client.model_exists("torch_cnn"):
    client.run_model("torch_cnn", "x", "torch_scores")
client.run_script("neg", "negate", ["x"], ["negated"])
client.run_script("two", "timestwo", ["x"], ["doubled"])
print(json.dumps({
    "scores": client.get_tensor("scores").tolist(),
    "torch_scores": client.get_tensor("torch_scores").tolist()
    if client.tensor_exists("torch_scores") else None,
    "negated": bool(np.array_equal(client.get_tensor("negated"), -x)),
    "doubled": bool(np.array_equal(client.get_tensor("doubled"), 2 * x)),
}))
"""


def timestwo(x):
    return 2 * x


def require_ml() -> None:
    require_server()
    for module, extra in (("onnxruntime", "onnx"), ("onnx", "onnx"), ("torch", "torch")):
        require_service(importlib.util.find_spec(module) is not None, module,
                        f"pip install 'sscontainer[{extra}]'")


def with_assets(exp: Experiment, tmp_path: Path, name: str, blob: bytes):
    app = tmp_path / "app.py"
    app.write_text(APP)
    run_dir = tmp_path / name
    run_dir.mkdir()
    model = exp.create_model(name, exp.create_run_settings(sys.executable, str(app)),
                             path=str(run_dir))
    model.add_ml_model("cnn", "ONNX", model=blob)
    model.add_script("neg", script=NEGATE)
    model.add_function("two", function=timestwo)
    return model


def pid_gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


def test_assets_are_in_the_database_before_the_model_runs(tmp_path):
    require_ml()
    exp = Experiment("ml-standard", exp_path=str(tmp_path / "exp"))
    db = exp.create_database(port=find_free_port(), db_nodes=1)
    blob = onnx_cnn(hidden=16, channels=2)
    model = with_assets(exp, tmp_path, "standard", blob)
    exp.start(db)
    try:
        workers = [j for j in exp.jobs.all() if j.step.entity_type == "MLWorker"]
        assert [j.name for j in workers] == ["orchestrator_0_ml_cpu"]
        exp.start(model, block=True)
        assert exp.get_status(model) == [Status.COMPLETED], app_result(model)
    finally:
        exp.stop(db)
    result = app_result(model)
    np.testing.assert_allclose(result["scores"], expected_scores(blob), rtol=1e-5, atol=1e-6)
    assert result["negated"] and result["doubled"]
    assert all(job.refresh().is_terminal for job in workers)  # stopped with the database


def test_colocated_model_loads_in_memory_assets_from_its_run_directory(tmp_path):
    require_ml()
    exp = Experiment("ml-colocated", exp_path=str(tmp_path / "exp"))
    blob = onnx_cnn(hidden=16, channels=2, seed=3)
    model = with_assets(exp, tmp_path, "colo", blob)
    torch_blob, torch_module = torch_cnn()
    model.add_ml_model("torch_cnn", "TORCH", model=torch_blob)
    sock_dir = short_tmpdir()
    try:
        model.colocate_db_uds(unix_socket=os.path.join(sock_dir, "colo.sock"))
        exp.start(model, block=True)
    finally:
        shutil.rmtree(sock_dir, ignore_errors=True)
    assert exp.get_status(model) == [Status.COMPLETED], app_result(model)
    result = app_result(model)
    np.testing.assert_allclose(result["scores"], expected_scores(blob), rtol=1e-5, atol=1e-6)
    assert result["negated"] and result["doubled"]
    import torch

    x = np.random.default_rng(0).random((2, *IMAGE), dtype=np.float32)
    with torch.no_grad():
        expected_torch = torch_module(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(result["torch_scores"], expected_torch, rtol=1e-5, atol=1e-6)
    assert (tmp_path / "colo" / "colo.ml" / "manifest.json").is_file()
    log = (tmp_path / "colo" / "colo.db.ml.log").read_text()
    pid = int(log.split("[sscontainer.ml.worker CPU ", 1)[1].split("]", 1)[0])
    assert pid_gone(pid)  # the supervisor stopped its worker with the database


def test_starting_a_model_with_assets_and_no_database_is_an_error(tmp_path):
    exp = Experiment("ml-no-db", exp_path=str(tmp_path / "exp"))
    model = exp.create_model("lonely", exp.create_run_settings(sys.executable, ["-c", "pass"]))
    model.add_script("neg", script=NEGATE)
    with pytest.raises(SSConfigError, match="no database is running and it is not colocated"):
        exp.start(model, block=True)
    assert exp.get_status(model) == [Status.NEVER_STARTED]


def test_databases_can_run_without_workers(tmp_path, monkeypatch):
    require_server()
    monkeypatch.setenv("SSCONTAINER_ML_WORKERS", "0")
    exp = Experiment("ml-off", exp_path=str(tmp_path / "exp"))
    db = exp.create_database(port=find_free_port(), db_nodes=1)
    exp.start(db)
    try:
        assert [j.step.entity_type for j in exp.jobs.all()] == ["DBNode"]
    finally:
        exp.stop(db)


def test_the_example_runs_from_python_and_from_yaml(tmp_path):
    require_ml()
    example = tmp_path / "ml_inference"
    shutil.copytree(REPO / "examples" / "ml_inference", example,
                    ignore=shutil.ignore_patterns("runs"))

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, *argv], cwd=example, capture_output=True,
                              text=True, timeout=180, check=False)

    python_api = run("experiment.py", "--port", str(find_free_port()))
    assert python_api.returncode == 0, python_api.stderr
    lines = [line for line in python_api.stdout.splitlines() if line.startswith("inference")]
    assert len(lines) == 2 and all("'negate_ok': True, 'timestwo_ok': True" in ln for ln in lines)

    doc = yaml.safe_load((example / "experiment.yaml").read_text())
    doc["database"]["port"] = find_free_port()
    colocated = {**doc, "name": "ml-colocated", "path": "runs/ml-colocated"}
    del colocated["database"]
    colocated["models"] = [{**doc["models"][0], "colocated_db": {"transport": "uds"}}]
    for name, variant in (("ml-inference", doc), ("ml-colocated", colocated)):
        path = example / f"{name}.yaml"
        path.write_text(yaml.safe_dump(variant))
        cli = run("-m", "sscontainer.cli", "run", str(path))
        assert cli.returncode == 0, cli.stderr
        out = example / "runs" / name / "inference" / "inference.out"
        result = json.loads(out.read_text().strip().splitlines()[-1])
        assert result["negate_ok"] and result["timestwo_ok"] and result["scores_shape"] == [4, 10]
    made = run("make_models.py")  # the committed model is the one it writes
    assert made.returncode == 0, made.stderr
    import onnxruntime

    x = np.random.default_rng(9).random((1, *IMAGE), dtype=np.float32)
    written, committed = (
        onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
            None, {"x": x})[0]
        for path in (example / "cnn.onnx", REPO / "examples" / "ml_inference" / "cnn.onnx")
    )
    np.testing.assert_allclose(written, committed, rtol=1e-6)
