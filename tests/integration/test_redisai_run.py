"""Running models and scripts through the real SmartRedis client: the module queues jobs
and real inference workers (one per shard) run them; results match the frameworks run
in this process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from sscontainer.db.local import LocalDatabase
from sscontainer.ml.sample_models import IMAGE, onnx_cnn, torch_cnn
from tests.integration.ml_models import batch_reporter, require_backend
from tests.integration.redisai_support import (
    DB_KINDS,
    hash_tag,
    kind_db,
    raw,
    require_smartredis,
    smartredis_env,
    sr_client,
    wait_for_workers,
    workers_for,
)

NEGATE = "def negate(x):\n\treturn torch.neg(x)\n"  # the guide's TorchScript string


def timestwo(x):  # the guide's function (TorchScript reads comments on this line)
    return 2 * x


@pytest.fixture(scope="module", params=DB_KINDS)
def db(request: pytest.FixtureRequest) -> Iterator[LocalDatabase]:
    require_smartredis()
    with kind_db(request.param) as database, workers_for(database):
        wait_for_workers(database)
        yield database


@pytest.fixture
def client(db: LocalDatabase) -> Any:
    return sr_client(db)


def images(rows: int, seed: int) -> np.ndarray[Any, Any]:
    return np.random.default_rng(seed).random((rows, *IMAGE), dtype=np.float32)


def test_onnx_model_matches_onnxruntime(client: Any) -> None:
    require_backend("onnxruntime", "onnx")
    import onnxruntime

    blob = onnx_cnn(hidden=32, channels=2)
    client.set_model("cnn_onnx", blob, "ONNX", "CPU")
    x = images(3, seed=1)
    client.put_tensor("onnx_in", x)
    client.run_model("cnn_onnx", ["onnx_in"], ["onnx_out"])
    session = onnxruntime.InferenceSession(blob, providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(client.get_tensor("onnx_out"), session.run(None, {"x": x})[0],
                               rtol=1e-5, atol=1e-6)


def test_torch_model_matches_torchscript(client: Any) -> None:
    require_backend("torch", "torch")
    import torch

    blob, module = torch_cnn()
    client.set_model("cnn_torch", blob, "TORCH", "CPU")
    x = images(2, seed=2)
    client.put_tensor("torch_in", x)
    client.run_model("cnn_torch", "torch_in", "torch_out")
    with torch.no_grad():
        expected = module(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(client.get_tensor("torch_out"), expected, rtol=1e-5, atol=1e-6)


def test_the_guides_script_and_function(client: Any) -> None:
    require_backend("torch", "torch")
    client.set_script("example_script", NEGATE, "CPU")
    client.set_function("example_func", timestwo)
    x = np.arange(6, dtype=np.float64).reshape(2, 3)
    client.put_tensor("script_in", x)
    client.run_script("example_script", "negate", ["script_in"], ["negated"])
    client.run_script("example_func", "timestwo", ["script_in"], ["doubled"])
    np.testing.assert_array_equal(client.get_tensor("negated"), -x)
    np.testing.assert_array_equal(client.get_tensor("doubled"), 2 * x)


def test_a_script_with_several_inputs_and_outputs(client: Any) -> None:
    require_backend("torch", "torch")
    client.set_script("two", "def both(a, b):\n    return a + b, a * b\n", "CPU")
    a, b = np.arange(4, dtype=np.int32), np.full(4, 3, dtype=np.int32)
    client.put_tensor("a", a)
    client.put_tensor("b", b)
    client.run_script("two", "both", ["a", "b"], ["sum", "prod"])
    np.testing.assert_array_equal(client.get_tensor("sum"), a + b)
    np.testing.assert_array_equal(client.get_tensor("prod"), a * b)


def test_ai_info_counts_runs(client: Any, db: LocalDatabase) -> None:
    require_backend("onnxruntime", "onnx")
    client.set_model("counted", onnx_cnn(hidden=8, channels=1), "ONNX", "CPU")
    client.put_tensor("counted_in", images(5, seed=3))
    for _ in range(3):
        client.run_model("counted", "counted_in", "counted_out")
    address = f"{db.addresses[0].host}:{db.addresses[0].port}" if db.is_cluster else \
        str(db.addresses[0])
    info = client.get_ai_info([address], "counted")[0]
    assert int(info["calls"]) == 3 and int(info["samples"]) == 15 and int(info["errors"]) == 0
    assert int(info["duration"]) > 0


def test_run_errors_reach_the_caller_and_the_worker_keeps_serving(client: Any) -> None:
    require_backend("onnxruntime", "onnx")
    client.set_model("cnn_err", onnx_cnn(hidden=8, channels=1), "ONNX", "CPU")
    client.put_tensor("err_in", images(1, seed=0))
    client.put_tensor("err_bad_shape", np.zeros((1, 3, 5), np.float32))
    with pytest.raises(Exception, match="failed in the ONNX backend"):
        client.run_model("cnn_err", "err_bad_shape", "o")
    with pytest.raises(Exception, match="takes 1 input"):  # a wrong input count
        client.run_model("cnn_err", ["err_in", "err_in"], ["o"])
    with pytest.raises(Exception, match=r"returned 1 outputs but 2 output keys were given"):
        client.run_model("cnn_err", "err_in", ["o1", "o2"])
    with pytest.raises(Exception, match="tensor key is empty"):
        client.run_model("cnn_err", "missing_in", "o")
    with pytest.raises(Exception, match="model key is empty"):
        client.run_model("no_such_model", "err_in", "o")
    client.set_script("neg_only", NEGATE, "CPU")
    with pytest.raises(Exception, match="defines no function 'absent'"):
        client.run_script("neg_only", "absent", ["err_in"], ["fn_out"])
    client.run_model("cnn_err", "err_in", "err_ok")  # the same worker still serves
    assert client.get_tensor("err_ok").shape == (1, 10)
    assert not client.tensor_exists("o1") and not client.tensor_exists("o")


def test_a_broken_model_is_fixed_by_storing_it_again(client: Any) -> None:
    require_backend("onnxruntime", "onnx")
    client.put_tensor("fix_in", images(1, seed=4))
    client.set_model("fixme", b"these bytes are not a model", "ONNX", "CPU")
    with pytest.raises(Exception, match=r"could not load ONNX model '.*fixme'"):
        client.run_model("fixme", "fix_in", "fix_out")
    client.set_model("fixme", onnx_cnn(hidden=8, channels=1), "ONNX", "CPU")
    client.run_model("fixme", "fix_in", "fix_out")
    assert client.get_tensor("fix_out").shape == (1, 10)


CALLER = """
import os, sys, numpy as np
from smartredis import Client
client = Client(os.environ["SR_DB_TYPE"] == "Clustered", os.environ["SSDB"])
i = int(sys.argv[1])
# one hash tag: in a cluster SmartRedis runs a model on the shard of its first input
client.put_tensor(f"{{b}}in{i}", np.full((1, 3), i, dtype=np.float32))
client.run_model("reporter", f"{{b}}in{i}", f"{{b}}out{i}")
print(int(client.get_tensor(f"{{b}}out{i}")[0, 0]))
"""


def test_callers_in_several_processes_run_as_one_batch(client: Any, db: LocalDatabase) -> None:
    """The model answers the batch size it ran with: 4 callers, MINBATCHSIZE 4."""
    client.set_model("reporter", batch_reporter(), "TORCH", "CPU", batch_size=8,
                     min_batch_size=4, min_batch_timeout=60_000)
    env = {**os.environ, **smartredis_env(db)}
    procs = [subprocess.Popen([sys.executable, "-c", CALLER, str(i)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(4)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [err for _, err in outs]
    assert [int(out) for out, _ in outs] == [4, 4, 4, 4]
    client.set_model("reporter", batch_reporter(), "TORCH", "CPU")  # unbatched: batch of 1
    client.run_model("reporter", "{b}in0", "alone")
    assert client.get_tensor("alone").tolist() == [[1]]


def test_scriptrun_lists_and_scriptexecute(db: LocalDatabase) -> None:
    """The forms SmartRedis does not send: SCRIPTRUN's '$' list and SCRIPTEXECUTE."""
    require_backend("torch", "torch")
    source = (
        "def total(first: Tensor, rest: List[Tensor]):\n"
        "    out = first\n"
        "    for t in rest:\n"
        "        out = out + t\n"
        "    return out\n"
        "def execute(tensors: List[Tensor], keys: List[str], args: List[str]):\n"
        "    return tensors[0] * float(args[0]) + len(keys)\n"
    )
    conn = raw(db)
    tag = hash_tag(db)
    for name, value in (("a", 1), ("b", 2), ("c", 3)):
        conn.execute_command("AI.TENSORSET", f"{tag}{name}", "FLOAT", 2, "VALUES", value, value)
    conn.execute_command("AI.SCRIPTSTORE", f"{tag}s", "CPU", "ENTRY_POINTS", 2, "total",
                         "execute", "SOURCE", source)
    assert conn.execute_command("AI.SCRIPTRUN", f"{tag}s", "total", "INPUTS", f"{tag}a", "$",
                                f"{tag}b", f"{tag}c", "OUTPUTS", f"{tag}sum") == b"OK"
    assert conn.execute_command("AI.TENSORGET", f"{tag}sum", "VALUES") == [b"6", b"6"]
    assert conn.execute_command(
        "AI.SCRIPTEXECUTE", f"{tag}s", "execute", "KEYS", 1, f"{tag}a", "INPUTS", 1, f"{tag}b",
        "ARGS", 1, "10", "OUTPUTS", 1, f"{tag}ex", "TIMEOUT", 60000) == b"OK"
    assert conn.execute_command("AI.TENSORGET", f"{tag}ex", "VALUES") == [b"21", b"21"]
    conn.close()
