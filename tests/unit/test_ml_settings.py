"""Devices, asset settings and backend availability (no services)."""

from __future__ import annotations

import pytest

from sscontainer.errors import BackendError, InvalidNameError, SSConfigError
from sscontainer.ml import backends
from sscontainer.ml.asset_settings import ModelSettings, check_asset_name
from sscontainer.ml.devices import (
    check_device,
    gpu_devices,
    multigpu_key,
    slug,
    worker_device,
    worker_env,
)


@pytest.mark.parametrize(
    ("given", "device", "worker"),
    [("cpu", "CPU", "CPU"), (" GPU ", "GPU", "GPU:0"), ("gpu:3", "GPU:3", "GPU:3")],
)
def test_devices_are_normalised(given, device, worker):
    assert check_device(given) == device
    assert worker_device(given) == worker


@pytest.mark.parametrize("bad", ["TPU", "CPU:0", "GPU:-1", "GPU:x", "", None, 0])
def test_bad_devices_are_config_errors(bad):
    with pytest.raises(SSConfigError):
        check_device(bad)


def test_gpu_worker_wiring_sets_cuda_visible_devices():
    assert gpu_devices(2, first_device=1) == ["GPU:1", "GPU:2"]
    assert worker_env("GPU:2") == {"CUDA_VISIBLE_DEVICES": "2"}
    assert worker_env("GPU") == {"CUDA_VISIBLE_DEVICES": "0"}
    assert worker_env("CPU") == {"CUDA_VISIBLE_DEVICES": ""}
    assert slug("GPU:2") == "gpu2" and slug("CPU") == "cpu"
    assert multigpu_key("cnn", "GPU:1") == "cnn.GPU:1"  # SmartRedis's per-device key


def test_model_settings_are_checked_where_given():
    settings = ModelSettings("onnx", "gpu:1", 8, 2, 5, "t", ("x",), ("y",))
    assert (settings.backend, settings.device, settings.inputs) == ("ONNX", "GPU:1", ("x",))
    with pytest.raises(SSConfigError, match="min_batch_size"):
        ModelSettings("ONNX", batch_size=2, min_batch_size=4)
    with pytest.raises(SSConfigError, match="input and output nodes"):
        ModelSettings("TF")


def test_model_names_may_not_hold_braces_which_would_change_the_hash_slot():
    assert check_asset_name("prefix.cnn") == "prefix.cnn"
    with pytest.raises(InvalidNameError):
        check_asset_name("{tag}cnn")


@pytest.mark.parametrize(
    ("backend", "extra"), [("TORCH", "torch"), ("ONNX", "onnx"), ("TF", "tf"), ("TFLITE", "tflite")]
)
def test_a_missing_backend_names_its_extra(backend, extra):
    error = backends.missing(backend)
    assert isinstance(error, BackendError)
    assert f"pip install 'sscontainer[{extra}]'" in str(error)


def test_tf_missing_is_a_backend_error_when_tensorflow_is_absent():
    if backends.available("TF"):
        pytest.skip("tensorflow is installed here")
    with pytest.raises(BackendError, match=r"pip install 'sscontainer\[tf\]'"):
        backends.load_model("TF", b"graph", "CPU", ["x"], ["y"])


def test_unknown_backend_is_a_config_error():
    with pytest.raises(SSConfigError):
        backends.available("CAFFE")
