"""Devices, the stored model format, request encoding and queue routing (no services)."""

from __future__ import annotations

import pytest
from redis.crc import key_slot

from sscontainer.errors import BackendError, InvalidNameError, SSConfigError
from sscontainer.ml import backends
from sscontainer.ml.devices import (
    check_device,
    gpu_devices,
    multigpu_key,
    slug,
    worker_device,
    worker_env,
)
from sscontainer.ml.protocol import (
    Request,
    decode_reply,
    encode_reply,
    in_ranges,
    queue_key,
    ranges_of,
    reply_key,
    tag_for,
)
from sscontainer.ml.store import (
    META_FIELDS,
    ModelSettings,
    StoredMeta,
    check_asset_name,
    script_fields,
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


def test_model_settings_fields_carry_every_setting_and_a_content_version():
    settings = ModelSettings("onnx", "gpu:1", 8, 2, 5, "t", ("x",), ("y",))
    first = settings.fields(b"blob")
    assert first["version"] == settings.fields(b"blob")["version"]  # same model: kept loaded
    assert first["version"] != settings.fields(b"blob2")["version"]
    other = ModelSettings("onnx", "gpu:1", 4, 2, 5, "t", ("x",), ("y",))
    assert first["version"] != other.fields(b"blob")["version"]
    meta = StoredMeta.parse([str(first[f]).encode() if not isinstance(first[f], bytes)
                             else first[f] for f in META_FIELDS])
    assert meta is not None and not meta.is_script
    assert (meta.backend, meta.device, meta.batch_size, meta.min_batch_size) == ("ONNX", "GPU:1", 8, 2)
    assert (meta.min_batch_timeout, meta.inputs, meta.outputs) == (5, ("x",), ("y",))
    assert first["blob"] == b"blob"


def test_stored_meta_of_a_missing_key_is_none():
    assert StoredMeta.parse([None] * len(META_FIELDS)) is None


def test_script_fields_refuse_empty_source_and_mark_the_kind():
    assert script_fields("def f(x):\n    return x\n", "CPU")["kind"] == "script"
    with pytest.raises(SSConfigError):
        script_fields("  ", "CPU")


def test_model_names_may_not_hold_braces_which_would_change_the_hash_slot():
    assert check_asset_name("prefix.cnn") == "prefix.cnn"
    with pytest.raises(InvalidNameError):
        check_asset_name("{tag}cnn")


def test_request_round_trips_and_reply_carries_the_error():
    request = Request(key="cnn", inputs=["a", "b"], outputs=["c"], reply="r", fn="f")
    decoded = Request.decode(request.encode())
    assert decoded == request and decoded.is_script
    assert decode_reply(encode_reply("broken", 3)) == (False, "broken", 3)
    assert decode_reply(encode_reply()) == (True, "", 1)


def test_queue_keys_share_the_tag_slot():
    tag = "ssc7"
    slot = key_slot(tag.encode())
    for key in (queue_key("CPU", tag), reply_key("abc", tag)):
        assert key_slot(key.encode()) == slot


def test_tag_lands_in_the_shards_own_slots():
    reply = [
        [0, 5460, [b"127.0.0.1", 1, b"aaa"]],
        [5461, 10922, [b"127.0.0.1", 2, b"bbb"]],
        [10923, 16383, [b"127.0.0.1", 3, b"ccc"]],
    ]
    for node, (low, high) in ((b"aaa", (0, 5460)), (b"bbb", (5461, 10922)), ("ccc", (10923, 16383))):
        ranges = ranges_of(reply, node)
        assert ranges == [(low, high)]
        tag = tag_for(in_ranges(ranges))
        assert low <= key_slot(tag.encode()) <= high
    assert ranges_of(reply, b"zzz") == []


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
