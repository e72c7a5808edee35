"""add_ml_model / add_script / add_function on models and ensembles: validation and storage."""

from __future__ import annotations

import sys

import pytest

from sscontainer import Experiment
from sscontainer.entities.assets import MLModelAsset, ScriptAsset
from sscontainer.errors import EntityExistsError, InvalidNameError, MissingFileError, SSConfigError


@pytest.fixture()
def exp(tmp_path):
    return Experiment("ml-entities", exp_path=str(tmp_path / "exp"))


@pytest.fixture()
def model(exp):
    return exp.create_model("sim", exp.create_run_settings(sys.executable, ["-c", "pass"]))


def test_add_ml_model_in_memory_records_every_setting(model):
    model.add_ml_model(
        "cnn", "onnx", model=b"bytes", device="gpu", devices_per_node=2, first_device=1,
        batch_size=8, min_batch_size=2, min_batch_timeout=5, tag="v1",
        inputs=["x"], outputs=["y"],
    )
    (asset,) = model.db_models
    assert (asset.name, asset.backend, asset.device) == ("cnn", "ONNX", "GPU")
    assert (asset.devices_per_node, asset.first_device, asset.is_multigpu) == (2, 1, True)
    assert (asset.batch_size, asset.min_batch_size, asset.min_batch_timeout) == (8, 2, 5)
    assert (asset.tag, asset.inputs, asset.outputs) == ("v1", ("x",), ("y",))
    assert asset.data() == b"bytes"
    assert model.has_ml_assets and model.db_scripts == []


def test_add_ml_model_from_file_reads_it_when_asked(model, tmp_path):
    path = tmp_path / "model.pt"
    path.write_bytes(b"torchscript")
    model.add_ml_model("net", "TORCH", model_path=str(path))
    assert model.db_models[0].model_path == str(path)
    assert model.db_models[0].data() == b"torchscript"


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"backend": "PYTORCH", "model": b"x"}, SSConfigError, "TORCH, ONNX, TF, TFLITE"),
        ({"backend": "ONNX"}, SSConfigError, "exactly one of model="),
        ({"backend": "ONNX", "model": b"x", "model_path": "m.onnx"}, SSConfigError, "exactly one"),
        ({"backend": "ONNX", "model_path": "/no/such/model.onnx"}, MissingFileError, "does not exist"),
        ({"backend": "ONNX", "model": "not bytes"}, SSConfigError, "as bytes"),
        ({"backend": "ONNX", "model": b"x", "device": "TPU"}, SSConfigError, "not a device"),
        ({"backend": "ONNX", "model": b"x", "device": "CPU:1"}, SSConfigError, "CPU takes no"),
        ({"backend": "ONNX", "model": b"x", "devices_per_node": 2}, SSConfigError, "only apply to GPU"),
        ({"backend": "ONNX", "model": b"x", "first_device": 1}, SSConfigError, "only apply to GPU"),
        ({"backend": "ONNX", "model": b"x", "device": "GPU:1", "devices_per_node": 2}, SSConfigError, "names one GPU"),
        ({"backend": "ONNX", "model": b"x", "devices_per_node": 0, "device": "GPU"}, SSConfigError, "devices_per_node must be"),
        ({"backend": "ONNX", "model": b"x", "batch_size": -1}, SSConfigError, "batch_size must be"),
        ({"backend": "ONNX", "model": b"x", "batch_size": True}, SSConfigError, "batch_size must be"),
        ({"backend": "ONNX", "model": b"x", "batch_size": 2, "min_batch_size": 4}, SSConfigError, "larger than batch_size"),
        ({"backend": "ONNX", "model": b"x", "min_batch_timeout": 5}, SSConfigError, "needs a min_batch_size"),
        ({"backend": "TF", "model": b"x"}, SSConfigError, "input and output nodes"),
        ({"backend": "ONNX", "model": b"x", "inputs": [""]}, SSConfigError, "list of names"),
    ],
)
def test_add_ml_model_rejects_bad_arguments(model, kwargs, error, words):
    with pytest.raises(error, match=words):
        model.add_ml_model("cnn", **kwargs)
    assert model.db_models == []


@pytest.mark.parametrize("name", ["", "has space", "br{ace}", "tab\tname", 3])
def test_asset_names_must_be_key_safe(model, name):
    with pytest.raises(InvalidNameError):
        model.add_ml_model(name, "ONNX", model=b"x")
    with pytest.raises(InvalidNameError):
        model.add_script(name, script="def f(x):\n    return x\n")


def test_models_and_scripts_share_one_name_space(model):
    model.add_ml_model("thing", "ONNX", model=b"x")
    with pytest.raises(EntityExistsError, match="unique"):
        model.add_script("thing", script="def f(x):\n    return x\n")
    with pytest.raises(EntityExistsError):
        model.add_ml_model("thing", "TORCH", model=b"y")
    assert len(model.db_models) == 1 and model.db_scripts == []


def test_add_script_from_text_or_file(model, tmp_path):
    model.add_script("neg", script="def negate(x):\n\treturn torch.neg(x)\n", device="GPU:1")
    path = tmp_path / "pre.py"
    path.write_text("def pre(x):\n    return x + 1\n")
    model.add_script("pre", script_path=str(path))
    neg, pre = model.db_scripts
    assert (neg.source(), neg.single_device, neg.is_function) == (
        "def negate(x):\n\treturn torch.neg(x)\n", "GPU:1", False,
    )
    assert pre.source() == "def pre(x):\n    return x + 1\n"
    with pytest.raises(SSConfigError, match="exactly one"):
        model.add_script("both", script="x", script_path=str(path))
    with pytest.raises(MissingFileError):
        model.add_script("gone", script_path=str(tmp_path / "missing.py"))


def test_add_function_stores_the_dedented_source(model):
    def timestwo(x):
        return 2 * x

    model.add_function("two", function=timestwo, device="GPU", devices_per_node=2)
    (asset,) = model.db_scripts
    assert asset.is_function and asset.is_multigpu
    assert asset.source() == "def timestwo(x):\n    return 2 * x\n"
    with pytest.raises(SSConfigError, match="Python function"):
        model.add_function("nothing", function=None)


def test_single_gpu_placement_honours_first_device():
    assert ScriptAsset(name="s", script="x", device="GPU", first_device=3).single_device == "GPU:3"
    assert MLModelAsset(name="m", backend="ONNX", model=b"x").single_device == "CPU"


def test_ensemble_assets_go_to_every_member_also_later_ones(exp):
    settings = exp.create_run_settings(sys.executable, ["-c", "pass"])
    ensemble = exp.create_ensemble("sweep", run_settings=settings, replicas=3)
    ensemble.add_ml_model("cnn", "ONNX", model=b"x")
    ensemble.add_script("neg", script="def negate(x):\n\treturn torch.neg(x)\n")
    assert [m.name for m in ensemble.db_models] == ["cnn"]
    for member in ensemble.models:
        assert [a.name for a in member.db_models] == ["cnn"]
        assert [s.name for s in member.db_scripts] == ["neg"]
    late = exp.create_model("late", settings)
    ensemble.add_model(late)
    assert [a.name for a in late.db_models] == ["cnn"]
    with pytest.raises(EntityExistsError):
        ensemble.add_ml_model("cnn", "ONNX", model=b"y")


def test_ensemble_refuses_a_name_a_member_already_uses(exp):
    settings = exp.create_run_settings(sys.executable, ["-c", "pass"])
    ensemble = exp.create_ensemble("sweep", run_settings=settings, replicas=2)
    ensemble.models[1].add_ml_model("cnn", "ONNX", model=b"x")
    with pytest.raises(EntityExistsError, match="sweep_1"):
        ensemble.add_ml_model("cnn", "ONNX", model=b"y")
    assert ensemble.models[0].db_models == []
