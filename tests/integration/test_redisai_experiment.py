"""Experiments whose applications use the real SmartRedis client for ML: the database
sscontainer launches loads the module and runs an inference worker beside it, a
standard orchestrator (local launcher) and a colocated one (Unix socket) alike."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import numpy as np

from sscontainer import Experiment
from sscontainer.db.address import find_free_port
from sscontainer.ml.sample_models import onnx_cnn
from sscontainer.status import Status
from tests.integration.db_fixtures import require_server, short_tmpdir
from tests.integration.ml_models import app_result, expected_scores, require_backend
from tests.integration.redisai_support import require_smartredis

APP = """
import json, os, sys
os.environ.setdefault("SR_SOCKET_TIMEOUT", "30000")  # first runs load the model
import numpy as np
from smartredis import Client
client = Client(None)  # SSDB and SR_DB_TYPE come from sscontainer's launch
client.set_model_from_file("cnn", sys.argv[1], "ONNX", "CPU")
client.set_script("neg", "def negate(x):\\n    return torch.neg(x)\\n", "CPU")
x = np.random.default_rng(0).random((2, 1, 28, 28), dtype=np.float32)
client.put_tensor("x", x)
client.run_model("cnn", "x", "scores")
client.run_script("neg", "negate", ["x"], ["negated"])
print(json.dumps({"scores": client.get_tensor("scores").tolist(),
                  "negated": bool(np.array_equal(client.get_tensor("negated"), -x))}))
"""


def _app(exp: Experiment, tmp_path: Path, name: str, model_file: Path):  # type: ignore[no-untyped-def]
    app = tmp_path / "app.py"
    app.write_text(APP)
    run_dir = tmp_path / name
    run_dir.mkdir()
    settings = exp.create_run_settings(sys.executable, [str(app), str(model_file)],
                                       env_vars={"SR_LOG_LEVEL": "QUIET"})
    return exp.create_model(name, settings, path=str(run_dir))


def _model_file(tmp_path: Path) -> tuple[Path, bytes]:
    require_server()
    require_smartredis()
    require_backend("onnxruntime", "onnx")
    require_backend("torch", "torch")
    blob = onnx_cnn(hidden=16, channels=2)
    path = tmp_path / "cnn.onnx"
    path.write_bytes(blob)
    return path, blob


def test_a_smartredis_app_runs_models_on_a_launched_database(tmp_path: Path) -> None:
    model_file, blob = _model_file(tmp_path)
    exp = Experiment("redisai-standard", exp_path=str(tmp_path / "exp"))
    db = exp.create_database(port=find_free_port(), db_nodes=1)
    model = _app(exp, tmp_path, "standard", model_file)
    exp.start(db)
    try:
        exp.start(model, block=True)
    finally:
        exp.stop(db)
    assert exp.get_status(model) == [Status.COMPLETED], app_result(model)
    result = app_result(model)
    np.testing.assert_allclose(result["scores"], expected_scores(blob), rtol=1e-5, atol=1e-6)
    assert result["negated"]


def test_a_smartredis_app_runs_models_on_its_colocated_database(tmp_path: Path) -> None:
    model_file, blob = _model_file(tmp_path)
    exp = Experiment("redisai-colocated", exp_path=str(tmp_path / "exp"))
    model = _app(exp, tmp_path, "colo", model_file)
    sock_dir = short_tmpdir()
    try:
        model.colocate_db_uds(unix_socket=os.path.join(sock_dir, "colo.sock"))
        exp.start(model, block=True)
    finally:
        shutil.rmtree(sock_dir, ignore_errors=True)
    assert exp.get_status(model) == [Status.COMPLETED], app_result(model)
    np.testing.assert_allclose(app_result(model)["scores"], expected_scores(blob), rtol=1e-5, atol=1e-6)
