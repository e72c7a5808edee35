"""Models and scripts run by real inference workers beside real servers (standalone, UDS, cluster).

Every result is compared with the same backend run in this process.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pytest

from sscontainer.client import Client
from sscontainer.db.local import LocalDatabase
from sscontainer.errors import ClientError
from sscontainer.ml.dispatch import shard_tag
from sscontainer.ml.processes import start_worker, stop_workers
from sscontainer.ml.protocol import STANDALONE_TAG, stats_key
from sscontainer.ml.sample_models import IMAGE, onnx_cnn, torch_cnn
from tests.conftest import require_service
from tests.integration.db_fixtures import require_server, short_tmpdir

NEGATE = "def negate(x):\n\treturn torch.neg(x)\n"  # the guide's TorchScript string


def timestwo(x):  # the guide's function
    return 2 * x


def require_backend(module: str, extra: str) -> None:
    require_service(importlib.util.find_spec(module) is not None, module,
                    f"pip install 'sscontainer[{extra}]'")


@dataclass
class MLDatabase:
    db: LocalDatabase
    workers: list[subprocess.Popen[bytes]]
    log_dir: str

    def client(self, **env: str) -> Client:
        return Client(address=self.db.ssdb, cluster=self.db.is_cluster, env=env)

    def stats(self) -> dict[str, dict[str, int]]:
        """Each shard's worker statistics, by queue tag."""
        client = self.client()
        tags = [STANDALONE_TAG] if not self.db.is_cluster else sorted(
            {shard_tag(client.redis, True, f"k{i}") for i in range(64)}
        )
        out = {}
        for tag in tags:
            raw = client.redis.hgetall(stats_key(tag))
            out[tag] = {k.decode(): int(v) for k, v in raw.items()}
        client.close()
        return out

    def logs(self) -> str:
        text = ""
        for name in sorted(os.listdir(self.log_dir)):
            with open(os.path.join(self.log_dir, name), encoding="utf-8") as handle:
                text += handle.read()
        return text


def start(db: LocalDatabase) -> MLDatabase:
    log_dir = short_tmpdir()
    workers = [
        start_worker(str(address), log_path=os.path.join(log_dir, f"worker{i}.log"))
        for i, address in enumerate(db.addresses)
    ]
    return MLDatabase(db, workers, log_dir)


@pytest.fixture(scope="module", params=["standalone", "uds", "cluster"])
def ml_db(request: pytest.FixtureRequest) -> Iterator[MLDatabase]:
    require_server()
    sock_dir = short_tmpdir()
    if request.param == "uds":
        db = LocalDatabase(unix_socket=os.path.join(sock_dir, "db.sock"))
    else:
        db = LocalDatabase(db_nodes=3 if request.param == "cluster" else 1)
    db.start()
    ml = start(db)
    try:
        yield ml
    finally:
        stop_workers(ml.workers)
        db.stop()
        shutil.rmtree(sock_dir, ignore_errors=True)
        shutil.rmtree(ml.log_dir, ignore_errors=True)


def images(rows: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random((rows, *IMAGE), dtype=np.float32)


# --- each backend against itself in-process -------------------------------------------
def test_onnx_cnn_matches_onnxruntime_in_process(ml_db):
    require_backend("onnxruntime", "onnx")
    import onnxruntime

    blob = onnx_cnn(hidden=32, channels=2)
    expected_session = onnxruntime.InferenceSession(blob, providers=["CPUExecutionProvider"])
    client = ml_db.client()
    client.set_model("cnn_onnx", blob, "ONNX")
    x = images(3, seed=1)
    client.put_tensor("onnx_in", x)
    client.run_model("cnn_onnx", inputs=["onnx_in"], outputs=["onnx_out"])
    expected = expected_session.run(None, {"x": x})[0]
    np.testing.assert_allclose(client.get_tensor("onnx_out"), expected, rtol=1e-5, atol=1e-6)


def test_torch_cnn_matches_torchscript_in_process(ml_db):
    require_backend("torch", "torch")
    import torch

    blob, module = torch_cnn()
    client = ml_db.client()
    client.set_model("cnn_torch", blob, "TORCH")
    x = images(2, seed=2)
    client.put_tensor("torch_in", x)
    client.run_model("cnn_torch", "torch_in", "torch_out")
    with torch.no_grad():
        expected = module(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(client.get_tensor("torch_out"), expected, rtol=1e-5, atol=1e-6)


def test_guide_script_and_function(ml_db):
    require_backend("torch", "torch")
    client = ml_db.client()
    client.set_script("example_script", NEGATE)
    client.set_function("example_func", timestwo)
    x = np.arange(6, dtype=np.float64).reshape(2, 3)
    client.put_tensor("script_in", x)
    client.run_script("example_script", "negate", ["script_in"], ["negated"])
    client.run_script("example_func", "timestwo", ["script_in"], ["doubled"])
    np.testing.assert_array_equal(client.get_tensor("negated"), -x)
    np.testing.assert_array_equal(client.get_tensor("doubled"), 2 * x)
    assert client.get_script("example_func") == "def timestwo(x):  # the guide's function\n" \
        "    return 2 * x\n"


# --- storage API ---------------------------------------------------------------------------
def test_model_and_script_storage_round_trip(ml_db, tmp_path):
    client = ml_db.client()
    path = tmp_path / "model.onnx"
    path.write_bytes(b"\x08\x07 not really a model")
    client.set_model_from_file("stored", str(path), "ONNX", tag="v2")
    assert client.get_model("stored") == path.read_bytes()
    assert client.model_exists("stored") and client.poll_model("stored", 10, 2)
    script = tmp_path / "pre.py"
    script.write_text("def pre(x):\n    return x + 1\n")
    client.set_script_from_file("pre", str(script))
    assert client.get_script("pre") == "def pre(x):\n    return x + 1\n"
    with pytest.raises(ClientError, match="no script is stored under key 'stored'"):
        client.get_script("stored")
    client.delete_model("stored")
    client.delete_script("pre")
    assert not client.model_exists("stored") and not client.model_exists("pre")
    with pytest.raises(ClientError, match="no model is stored"):
        client.delete_model("stored")


def test_model_keys_follow_the_model_prefix_rules(ml_db):
    require_backend("onnxruntime", "onnx")
    blob = onnx_cnn(hidden=8, channels=1)
    member = ml_db.client(SSKEYOUT="member_0", SSKEYIN="member_0")
    member.set_model("plain", blob, "ONNX")  # models are not prefixed by default
    member.use_model_ensemble_prefix(True)
    member.set_model("mine", blob, "ONNX")
    raw = ml_db.client()
    assert raw.model_exists("plain") and raw.model_exists("member_0.mine")
    assert not raw.model_exists("mine")
    member.put_tensor("x", images(1, seed=3))  # tensors are: member_0.x
    member.run_model("mine", "x", "y")
    assert raw.tensor_exists("member_0.y")


# --- batching -------------------------------------------------------------------------------
def test_concurrent_requests_run_as_one_batch_and_each_caller_gets_its_rows(ml_db):
    require_backend("onnxruntime", "onnx")
    import onnxruntime

    blob = onnx_cnn(hidden=16, channels=2, seed=5)
    session = onnxruntime.InferenceSession(blob, providers=["CPUExecutionProvider"])
    setup = ml_db.client()
    # the worker holds requests until 4 samples are there (bounded by 10 s)
    setup.set_model("batched", blob, "ONNX", batch_size=8, min_batch_size=4,
                    min_batch_timeout=10_000)
    tag = shard_tag(setup.redis, ml_db.db.is_cluster, "batched")
    before = ml_db.stats()[tag].get("batch:4", 0)
    results: dict[int, np.ndarray] = {}
    errors: list[BaseException] = []

    def caller(index: int) -> None:
        try:
            client = ml_db.client()
            client.put_tensor(f"b_in{index}", images(1, seed=10 + index))
            client.run_model("batched", f"b_in{index}", f"b_out{index}")
            results[index] = client.get_tensor(f"b_out{index}").copy()
        except BaseException as exc:  # reported below, with the thread's own error
            errors.append(exc)

    threads = [threading.Thread(target=caller, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for index, result in results.items():
        expected = session.run(None, {"x": images(1, seed=10 + index)})[0]
        np.testing.assert_allclose(result, expected, rtol=1e-5, atol=1e-6)
    assert ml_db.stats()[tag].get("batch:4", 0) == before + 1


def test_a_batch_of_uneven_requests_is_split_back_by_rows(ml_db):
    require_backend("onnxruntime", "onnx")
    import onnxruntime

    blob = onnx_cnn(hidden=16, channels=2, seed=6)
    session = onnxruntime.InferenceSession(blob, providers=["CPUExecutionProvider"])
    setup = ml_db.client()
    setup.set_model("uneven", blob, "ONNX", batch_size=8, min_batch_size=5,
                    min_batch_timeout=10_000)
    rows = {0: 1, 1: 2, 2: 2}
    results: dict[int, np.ndarray] = {}

    def caller(index: int) -> None:
        client = ml_db.client()
        client.put_tensor(f"u_in{index}", images(rows[index], seed=20 + index))
        client.run_model("uneven", f"u_in{index}", f"u_out{index}")
        results[index] = client.get_tensor(f"u_out{index}").copy()

    threads = [threading.Thread(target=caller, args=(i,)) for i in rows]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [0, 1, 2]
    for index, result in results.items():
        expected = session.run(None, {"x": images(rows[index], seed=20 + index)})[0]
        assert result.shape == (rows[index], 10)
        np.testing.assert_allclose(result, expected, rtol=1e-5, atol=1e-6)


# --- failures come back to the caller; the worker keeps serving ------------------------------
def test_a_broken_model_is_a_clear_error_and_fixing_it_needs_no_restart(ml_db):
    require_backend("onnxruntime", "onnx")
    client = ml_db.client()
    client.put_tensor("fix_in", images(1, seed=4))
    client.set_model("fixme", b"these bytes are not a model", "ONNX")
    with pytest.raises(ClientError, match=r"run_model\('fixme'\): could not load ONNX model "
                                          r"'fixme': onnxruntime could not load the model"):
        client.run_model("fixme", "fix_in", "fix_out")
    client.set_model("fixme", onnx_cnn(hidden=8, channels=1), "ONNX")
    client.run_model("fixme", "fix_in", "fix_out")
    assert client.get_tensor("fix_out").shape == (1, 10)
    assert all(worker.poll() is None for worker in ml_db.workers)


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda c: c.run_model("cnn_err", "missing_in", "o"), "input tensor 'missing_in' does not exist"),
        (lambda c: c.run_model("no_such_model", "err_in", "o"), "no model is stored under key 'no_such_model'"),
        (lambda c: c.run_script("cnn_err", "f", ["err_in"], ["o"]), "holds a model, not a script"),
        (lambda c: c.run_model("cnn_err", "err_in", ["o1", "o2"]), r"produced 1 output\(s\) but 2"),
        (lambda c: c.run_model("cnn_err", "err_bad_shape", "o"), "failed in the ONNX backend"),
    ],
)
def test_run_errors_reach_the_caller(ml_db, call, words):
    require_backend("onnxruntime", "onnx")
    client = ml_db.client()
    client.set_model("cnn_err", onnx_cnn(hidden=8, channels=1), "ONNX")
    client.put_tensor("err_in", images(1, seed=0))
    client.put_tensor("err_bad_shape", np.zeros((1, 3, 5), np.float32))
    with pytest.raises(ClientError, match=words):
        call(client)
    client.run_model("cnn_err", "err_in", "err_ok")  # the same worker still serves
    assert client.get_tensor("err_ok").shape == (1, 10)


def test_a_script_without_the_function_names_it(ml_db):
    require_backend("torch", "torch")
    client = ml_db.client()
    client.set_script("neg_only", NEGATE)
    client.put_tensor("fn_in", np.ones(3, np.float32))
    with pytest.raises(ClientError, match="defines no function 'absent'"):
        client.run_script("neg_only", "absent", ["fn_in"], ["fn_out"])


def test_gpu_models_need_a_gpu_worker(ml_db):
    """No GPU here: a GPU model is routed to its device's worker, and none runs."""
    client = ml_db.client()
    client.set_model("on_gpu", b"model", "ONNX", device="GPU")
    client.put_tensor("gpu_in", np.ones(3, np.float32))
    with pytest.raises(ClientError, match="stored for GPU:0 but no inference worker serves GPU:0"):
        client.run_model("on_gpu", "gpu_in", "gpu_out")
    client.set_model_multigpu("multi", b"model", "ONNX", first_gpu=0, num_gpus=2)
    assert client.model_exists("multi.GPU:0") and client.model_exists("multi.GPU:1")
    with pytest.raises(ClientError, match="stored for GPU:1"):
        client.run_model_multigpu("multi", 3, 0, 2, "gpu_in", "gpu_out")  # rank 3 -> GPU 1
    client.delete_model_multigpu("multi", 0, 2)
    assert not client.model_exists("multi.GPU:0")


def test_cluster_requests_are_served_beside_the_shard_holding_the_model(ml_db):
    if not ml_db.db.is_cluster:
        pytest.skip("a cluster-only property")
    require_backend("onnxruntime", "onnx")
    client = ml_db.client()
    blob = onnx_cnn(hidden=8, channels=1)
    names = [f"routed{i}" for i in range(6)]
    tags = {name: shard_tag(client.redis, True, name) for name in names}
    assert len(set(tags.values())) > 1  # the models really live on different shards
    client.put_tensor("route_in", images(1, seed=7))
    before = ml_db.stats()
    for name in names:
        client.set_model(name, blob, "ONNX")
        client.run_model(name, "route_in", f"{name}_out")
    after = ml_db.stats()
    for tag in after:
        served = sum(v for k, v in after[tag].items() if k.startswith("batch:")) - sum(
            v for k, v in before.get(tag, {}).items() if k.startswith("batch:")
        )
        assert served == sum(1 for name in names if tags[name] == tag)


def test_no_worker_is_a_clear_error_not_a_hang():
    require_server()
    with LocalDatabase() as db:
        client = Client(address=db.ssdb, cluster=False, env={})
        client.ml_worker_grace = 0.3
        client.set_model("lonely", b"model", "ONNX")
        client.put_tensor("lonely_in", np.ones(2, np.float32))
        with pytest.raises(ClientError, match="no inference worker serves the shard"):
            client.run_model("lonely", "lonely_in", "lonely_out")
        assert client.redis.llen("__ssc.ml.req.CPU{ssc}") == 0  # the request was withdrawn
