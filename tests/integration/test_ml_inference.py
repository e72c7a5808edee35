"""sscontainer.Client's model and script calls, run by real inference workers beside real
servers (standalone, UDS, cluster). Every result is compared with the same backend run in
this process."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pytest

from sscontainer.client import Client, ConfigOptions
from sscontainer.client.error import RedisRuntimeError
from sscontainer.db.local import LocalDatabase
from sscontainer.errors import ClientError
from sscontainer.ml.processes import start_worker, stop_workers
from sscontainer.ml.sample_models import IMAGE, onnx_cnn, torch_cnn
from tests.integration.client_pairs import require_redisai
from tests.integration.db_fixtures import require_server, short_tmpdir
from tests.integration.ml_models import require_backend

NEGATE = "def negate(x):\n\treturn torch.neg(x)\n"  # the guide's TorchScript string


def timestwo(x):  # the guide's function
    return 2 * x


def client_of(db: LocalDatabase, **env: str) -> Client:
    """A Client of ``db`` with ``env``'s options (prefixes...), not the process's."""
    options = ConfigOptions.create_from_environment("")
    settings = {"SSDB": db.ssdb, "SR_DB_TYPE": db.db_type, "SSKEYIN": "", "SSKEYOUT": "", **env}
    for name, value in settings.items():
        options.override_string_option(name, value)
    return Client(options, "ml-test")


@dataclass
class MLDatabase:
    db: LocalDatabase
    workers: list[subprocess.Popen[bytes]]
    log_dir: str

    def client(self, **env: str) -> Client:
        return client_of(self.db, **env)

    def calls(self, key: str) -> dict[str, int]:
        """AI.INFO's run count of ``key`` on each node (its shard's copy in a cluster)."""
        client = self.client()
        nodes = [str(a) for a in self.db.addresses]
        found = {node: int(info["calls"]) for node, info in
                 zip(nodes, client.get_ai_info(nodes, key), strict=True)}
        client.close()
        return found


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
        with ml.client() as probe:
            require_redisai(probe)
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
    with pytest.raises(RedisRuntimeError, match="WRONGTYPE|script key is empty"):
        client.get_script("stored")
    client.delete_model("stored")
    client.delete_script("pre")
    assert not client.model_exists("stored") and not client.model_exists("pre")
    with pytest.raises(ClientError, match="model key is empty"):
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
    with pytest.raises(RedisRuntimeError, match="(?s)Client.run_model execution failed.*fixme"):
        client.run_model("fixme", "fix_in", "fix_out")
    client.set_model("fixme", onnx_cnn(hidden=8, channels=1), "ONNX")
    client.run_model("fixme", "fix_in", "fix_out")
    assert client.get_tensor("fix_out").shape == (1, 10)
    assert all(worker.poll() is None for worker in ml_db.workers)


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda c: c.run_model("cnn_err", "missing_in", "o"), "tensor key is empty"),
        (lambda c: c.run_model("no_such_model", "err_in", "o"), "model key is empty"),
        (lambda c: c.run_script("cnn_err", "f", ["err_in"], ["o"]), "WRONGTYPE|script key"),
        (lambda c: c.run_model("cnn_err", "err_in", ["o1", "o2"]), "output"),
        (lambda c: c.run_model("cnn_err", "err_bad_shape", "o"), "ONNX|onnx|shape|dimension"),
    ],
)
def test_run_errors_reach_the_caller(ml_db, call, words):
    require_backend("onnxruntime", "onnx")
    client = ml_db.client()
    client.set_model("cnn_err", onnx_cnn(hidden=8, channels=1), "ONNX")
    client.put_tensor("err_in", images(1, seed=0))
    client.put_tensor("err_bad_shape", np.zeros((1, 3, 5), np.float32))
    with pytest.raises(RedisRuntimeError, match=words):
        call(client)
    client.run_model("cnn_err", "err_in", "err_ok")  # the same worker still serves
    assert client.get_tensor("err_ok").shape == (1, 10)


def test_a_script_without_the_function_names_it(ml_db):
    require_backend("torch", "torch")
    client = ml_db.client()
    client.set_script("neg_only", NEGATE)
    client.put_tensor("fn_in", np.ones(3, np.float32))
    with pytest.raises(RedisRuntimeError, match="absent"):
        client.run_script("neg_only", "absent", ["fn_in"], ["fn_out"])


@pytest.mark.timeout(120)
def test_gpu_models_need_a_gpu_worker(ml_db):
    """No GPU here: a GPU model's job waits for a GPU worker, then fails saying so."""
    client = ml_db.client()
    client.set_model_multigpu("multi", b"model", "ONNX", first_gpu=0, num_gpus=2)
    assert client.model_exists("multi.GPU:0") and client.model_exists("multi.GPU:1")
    client.put_tensor("gpu_in", np.ones(3, np.float32))
    with pytest.raises(RedisRuntimeError, match="no inference worker serves device GPU:1"):
        client.run_model_multigpu("multi", 3, 0, 2, "gpu_in", "gpu_out")  # rank 3 -> GPU 1
    client.delete_model_multigpu("multi", 0, 2)
    assert not client.model_exists("multi.GPU:0") and not client.model_exists("multi")


def test_cluster_runs_go_to_the_shard_of_the_first_input(ml_db):
    """SmartRedis's rule: the model's copy on that shard runs it, on temporary keys there."""
    if not ml_db.db.is_cluster:
        pytest.skip("a cluster-only property")
    require_backend("onnxruntime", "onnx")
    client = ml_db.client()
    client.set_model("routed", onnx_cnn(hidden=8, channels=1), "ONNX")
    inputs = [f"in{i}" for i in range(12)]
    shards = {name: str(client._db.shard_of(name).address) for name in inputs}  # noqa: SLF001
    assert len(set(shards.values())) == 3  # the inputs really live on different shards
    before = ml_db.calls("routed")
    for name in inputs:
        client.put_tensor(name, images(1, seed=7))
        client.run_model("routed", name, name + "_out")
        assert client.get_tensor(name + "_out").shape == (1, 10)
    after = ml_db.calls("routed")
    for node in after:
        assert after[node] - before[node] == sum(1 for n in inputs if shards[n] == node)
    assert not [k for k in inputs if client.key_exists(k + ".TMP")]


@pytest.mark.timeout(60)
def test_no_worker_is_a_clear_error_not_a_hang():
    require_server()
    with LocalDatabase() as db:
        client = client_of(db)
        require_redisai(client)
        client.set_model("lonely", b"model", "ONNX")
        client.put_tensor("lonely_in", np.ones(2, np.float32))
        with pytest.raises(RedisRuntimeError, match="no inference worker serves device CPU"):
            client.run_model("lonely", "lonely_in", "lonely_out")
        assert not client.tensor_exists("lonely_out")
