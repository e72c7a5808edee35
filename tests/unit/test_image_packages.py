"""Which Python packages images get: SmartRedis in the base, ML backends beside a database."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pytest

from sscontainer import Experiment
from sscontainer.errors import SSConfigError
from sscontainer.ml.hooks import database_backends, set_ml_backends
from sscontainer.specs import packages
from sscontainer.specs.entities import orchestrator_spec, runtime_base_spec
from sscontainer.specs.render import render_dockerfile


def _installed(name: str) -> bool:
    try:
        metadata.version(name)
    except metadata.PackageNotFoundError:
        return False
    return True


def test_the_base_holds_the_real_smartredis_client_without_dependencies() -> None:
    text = render_dockerfile(runtime_base_spec())
    line = next(x for x in text.splitlines() if "smartredis==0.6.1" in x)
    assert "--no-deps" in line and packages.HIREDIS in line


@pytest.mark.skipif(not _installed("onnxruntime"), reason="onnxruntime is not installed here")
def test_backends_are_pinned_at_this_hosts_versions_with_numpy() -> None:
    reqs = packages.backend_requirements(["onnx"])
    assert reqs == (f"onnxruntime=={metadata.version('onnxruntime')}",
                    f"numpy=={metadata.version('numpy')}")
    assert packages.backend_requirements([]) == ()
    text = render_dockerfile(orchestrator_spec(backends=("ONNX",)))
    assert reqs[0] in text and "onnxruntime" not in render_dockerfile(orchestrator_spec())


def test_a_backend_that_is_not_installed_names_its_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(packages.BACKEND_DISTRIBUTIONS, "TF", ("no-such-distribution-here",))
    with pytest.raises(SSConfigError, match=r"sscontainer\[tf\]"):
        packages.backend_requirements(["TF"])
    with pytest.raises(SSConfigError, match="not known"):
        packages.backend_requirements(["CAFFE"])


def test_a_database_needs_its_models_backends_not_a_colocated_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exp = Experiment("be", exp_path=str(tmp_path))
    db = exp.create_database()
    plain = exp.create_model("plain", exp.create_run_settings("echo"))
    plain.add_ml_model("cnn", "ONNX", model=b"onnx bytes")
    scripted = exp.create_model("scripted", exp.create_run_settings("echo"))
    scripted.add_script("pre", script="def f(x):\n    return x\n")
    colo = exp.create_model("colo", exp.create_run_settings("echo"))
    colo.colocate_db_uds()
    colo.add_ml_model("lite", "TFLITE", model=b"tflite bytes")
    assert database_backends(db, [plain, scripted, colo]) == ("ONNX", "TORCH")
    set_ml_backends(db, ["tf"])
    assert database_backends(db, []) == ("TF",)
    monkeypatch.setenv("SSCONTAINER_ML_WORKERS", "0")  # no worker: no framework needed
    assert database_backends(db, [plain]) == ()
