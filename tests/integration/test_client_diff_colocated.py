"""A colocated model (its own database on a Unix socket, started by sscontainer's supervisor,
the RedisAI-compatible module and an inference worker beside it) whose application uses the
real smartredis 0.6.1 client and sscontainer.client side by side: each reads what the other
wrote, runs what the other stored, and both fail alike."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from sscontainer import Experiment
from sscontainer.status import Status
from tests.client_diff import require_smartredis
from tests.integration.db_fixtures import require_server, short_tmpdir
from tests.integration.ml_models import require_backend

APP = r'''
import json, os
import numpy as np
import smartredis as sr
import sscontainer.client as ours

assert os.environ["SSDB"].startswith("unix://") and os.environ["SR_DB_TYPE"] == "Standalone"
real, mine = sr.Client(None, "real"), ours.Client(None, "ours")
checks = {}
for i, dtype in enumerate(["float64", "float32", "int64", "int32", "int16", "int8",
                           "uint16", "uint8"]):
    data = (np.arange(24) * (i + 1)).astype(dtype).reshape(2, 3, 4)
    real.put_tensor("r_" + dtype, data)
    mine.put_tensor("o_" + dtype, data)
    checks[dtype] = bool(np.array_equal(mine.get_tensor("r_" + dtype), data)
                         and np.array_equal(real.get_tensor("o_" + dtype), data))
for writer, module, reader in ((real, sr, mine), (mine, ours, real)):
    ds = module.Dataset("ds_" + module.__name__)
    ds.add_tensor("t", np.ones(3, np.int32))
    ds.add_meta_scalar("n", 4)
    ds.add_meta_string("s", "text")
    writer.put_dataset(ds)
    writer.append_to_list("L", ds)
    back = reader.get_dataset("ds_" + module.__name__)
    checks["dataset from " + module.__name__] = (
        list(back.get_meta_scalars("n")) == [4] and back.get_meta_strings("s") == ["text"]
        and back.get_tensor("t").tolist() == [1, 1, 1])
checks["list"] = (real.get_list_length("L") == mine.get_list_length("L") == 2
                  and sorted(d.get_name() for d in mine.get_datasets_from_list("L"))
                  == sorted(d.get_name() for d in real.get_datasets_from_list("L")))
real.set_script("s_real", "def double(x):\n    return x * 2\n")
mine.put_tensor("x", np.arange(4, dtype=np.float32))
mine.run_script("s_real", "double", ["x"], ["y"])
checks["script"] = real.get_tensor("y").tolist() == [0.0, 2.0, 4.0, 6.0]
errors = {}
for name, call in (("get missing", lambda c: c.get_tensor("nope")),
                   ("missing dataset", lambda c: c.get_dataset("nope")),
                   ("bad dtype", lambda c: c.put_tensor("b", np.zeros(2, bool))),
                   ("missing script", lambda c: c.run_script("nope", "f", "x", "z"))):
    raised = []
    for client in (real, mine):
        try:
            call(client)
            raised.append(None)
        except Exception as exc:
            raised.append(exc)
    theirs, mine_exc = raised
    counterpart = getattr(ours.error, type(theirs).__name__, type(theirs))
    errors[name] = [type(theirs).__name__, isinstance(mine_exc, counterpart)]
print(json.dumps({"checks": checks, "errors": errors}))
'''


@pytest.mark.timeout(300)
def test_both_clients_in_a_colocated_model(tmp_path: Path) -> None:
    require_server()
    require_smartredis()
    require_backend("torch", "torch")
    exp = Experiment("colocated-diff", exp_path=str(tmp_path / "exp"))
    app = tmp_path / "app.py"
    app.write_text(APP)
    run_dir = tmp_path / "both"
    run_dir.mkdir()
    settings = exp.create_run_settings(sys.executable, str(app))
    settings.update_env({"SR_LOG_LEVEL": "quiet", "SR_SOCKET_TIMEOUT": "30000"})
    model = exp.create_model("both", settings, path=str(run_dir))
    sock_dir = short_tmpdir()
    try:
        model.colocate_db_uds(unix_socket=str(Path(sock_dir) / "both.sock"))
        exp.start(model, block=True)
    finally:
        shutil.rmtree(sock_dir, ignore_errors=True)
    out = (run_dir / "both.out").read_text()
    err = (run_dir / "both.err").read_text()
    assert exp.get_status(model) == [Status.COMPLETED], err[-3000:]
    result = json.loads(out.strip().splitlines()[-1])
    assert all(result["checks"].values()), result["checks"]
    assert len(result["checks"]) == 12
    for name, (theirs, matching) in result["errors"].items():
        assert theirs != "NoneType" and matching, (name, theirs)
