"""Worker steps (CPU and GPU wiring), assets bundles, asset loading rules and the YAML ml: block."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
import yaml

from sscontainer import Experiment
from sscontainer.cli.loader import load_plan
from sscontainer.db.address import ServerAddress
from sscontainer.entities.orchestrator import Orchestrator
from sscontainer.entities.steps import Placement
from sscontainer.errors import SchemaError, SSConfigError
from sscontainer.ml.assets import asset_devices, manifest_devices, read_bundle, write_bundle
from sscontainer.ml.devices import gpu_devices
from sscontainer.ml.hooks import load_model_assets, set_ml_devices, worker_steps
from sscontainer.ml.processes import worker_argv


def running_orchestrator(tmp_path: Path, shards: int = 1, password: str | None = None):
    orch = Orchestrator(port=7000, db_nodes=shards, path=str(tmp_path / "db"), password=password)
    orch._set_running([ServerAddress(host="127.0.0.1", port=7000 + i) for i in range(shards)])
    return orch


def test_one_cpu_worker_per_shard_beside_the_shard_logs(tmp_path):
    orch = running_orchestrator(tmp_path, shards=3)
    steps = worker_steps(orch, str(tmp_path / "db"))
    assert [s.name for s in steps] == [f"orchestrator_{i}_ml_cpu" for i in range(3)]
    for i, step in enumerate(steps):
        assert step.argv == (sys.executable, "-m", "sscontainer.ml.worker",
                             "--address", f"127.0.0.1:{7000 + i}", "--device", "CPU")
        assert step.env == {"CUDA_VISIBLE_DEVICES": ""}
        assert step.out == str(tmp_path / "db" / f"orchestrator_{i}_ml_cpu.out")
        assert step.entity_type == "MLWorker"


def test_gpu_workers_get_one_device_each(tmp_path):
    """No GPU here: this checks the wiring (argv and CUDA_VISIBLE_DEVICES) of each step."""
    orch = running_orchestrator(tmp_path, shards=1, password="s3cret")
    set_ml_devices(orch, ["CPU", *gpu_devices(2, first_device=1)])
    steps = {s.name: s for s in worker_steps(orch, str(tmp_path))}
    assert sorted(steps) == ["orchestrator_0_ml_cpu", "orchestrator_0_ml_gpu1",
                             "orchestrator_0_ml_gpu2"]
    gpu = steps["orchestrator_0_ml_gpu2"]
    assert gpu.env == {"CUDA_VISIBLE_DEVICES": "2", "SSDB_PASSWORD": "s3cret"}
    assert list(gpu.argv[-4:]) == ["--device", "GPU:2", "--password-env", "SSDB_PASSWORD"]
    assert "s3cret" not in " ".join(gpu.argv)  # never on a command line


def test_workers_can_be_turned_off(tmp_path, monkeypatch):
    orch = running_orchestrator(tmp_path)
    set_ml_devices(orch, [])
    assert worker_steps(orch, str(tmp_path)) == []
    with pytest.raises(SSConfigError, match="include 'CPU'"):
        set_ml_devices(orch, ["GPU:0"])
    other = running_orchestrator(tmp_path)
    monkeypatch.setenv("SSCONTAINER_ML_WORKERS", "0")
    assert worker_steps(other, str(tmp_path)) == []


def test_containerized_and_slurm_shards_get_no_host_worker(tmp_path):
    orch = running_orchestrator(tmp_path)
    assert worker_steps(orch, str(tmp_path), Placement(image="img"), "docker") == []
    assert worker_steps(orch, str(tmp_path), None, "slurm") == []


def test_worker_argv_passes_thread_counts():
    argv = worker_argv("unix:///tmp/db.sock", "GPU", None,
                       {"intra_op_threads": 2, "inter_op_threads": 1, "threads_per_queue": 4})
    assert argv[3:] == ["--address", "unix:///tmp/db.sock", "--device", "GPU:0",
                        "--intra-op-threads", "2", "--inter-op-threads", "1"]


@pytest.fixture()
def model(tmp_path):
    exp = Experiment("ml-hooks", exp_path=str(tmp_path / "exp"))
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    return exp.create_model("sim", exp.create_run_settings(sys.executable, ["-c", "pass"]),
                            path=str(run_dir))


def test_assets_without_a_database_are_a_clear_error(model):
    model.add_ml_model("cnn", "ONNX", model=b"x")
    with pytest.raises(SSConfigError, match=r"has ML models/scripts \(cnn\) but no database"):
        load_model_assets(model, {})


def test_a_model_without_assets_needs_no_database(model):
    load_model_assets(model, {})  # nothing to load: no error


def test_colocated_assets_become_a_bundle_the_supervisor_reads(model, tmp_path):
    source = tmp_path / "net.pt"
    source.write_bytes(b"torchscript bytes")
    model.colocate_db_uds()
    model.add_ml_model("cnn", "ONNX", model=b"onnx bytes", batch_size=4, inputs="x")
    model.add_ml_model("net", "TORCH", model_path=str(source), device="GPU", devices_per_node=2)
    model.add_script("neg", script="def negate(x):\n\treturn torch.neg(x)\n")

    def timestwo(x):
        return 2 * x

    model.add_function("two", function=timestwo, device="GPU:3")
    load_model_assets(model, {})
    assert model.colocated.assets_file == os.path.join("sim.ml", "manifest.json")
    manifest = os.path.join(model.path, model.colocated.assets_file)
    with open(manifest, encoding="utf-8") as handle:
        assert json.load(handle)["format"] == 1
    models, scripts = read_bundle(manifest)
    assert [(m.name, m.data(), m.batch_size, m.inputs) for m in models] == [
        ("cnn", b"onnx bytes", 4, ("x",)), ("net", b"torchscript bytes", 0, ()),
    ]
    assert models[1].is_multigpu and models[1].model_path.startswith(model.path)
    assert [(s.name, s.source(), s.is_function) for s in scripts] == [
        ("neg", "def negate(x):\n\treturn torch.neg(x)\n", False),
        ("two", "def timestwo(x):\n    return 2 * x\n", True),
    ]
    assert manifest_devices(manifest) == ["CPU", "GPU:0", "GPU:1", "GPU:3"]
    assert asset_devices([], []) == ["CPU"]


def test_removing_all_assets_drops_the_stale_manifest(model):
    model.colocate_db_tcp(port=6999)
    model.add_script("neg", script="def negate(x):\n\treturn torch.neg(x)\n")
    load_model_assets(model, {})
    assert model.colocated.assets_file
    model._init_assets()
    load_model_assets(model, {})
    assert model.colocated.assets_file is None


def test_bundle_rejects_an_unknown_format(tmp_path):
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"format": 99, "models": [], "scripts": []}))
    with pytest.raises(SSConfigError, match="format 99"):
        read_bundle(str(path))
    assert write_bundle(str(tmp_path), "m", [], []) == os.path.join("m.ml", "manifest.json")


def write_yaml(tmp_path: Path, ml: object) -> str:
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump({
        "name": "ml-yaml",
        "models": [{"name": "infer", "exe": "python3", "args": ["infer.py"],
                    "colocated_db": {"transport": "uds"}, "ml": ml}],
    }))
    return str(path)


def test_yaml_ml_block_adds_models_and_scripts(tmp_path):
    (tmp_path / "cnn.onnx").write_bytes(b"onnx")
    (tmp_path / "pre.py").write_text("def pre(x):\n    return x\n")
    plan = load_plan(write_yaml(tmp_path, {
        "models": [{"name": "cnn", "backend": "ONNX", "path": "cnn.onnx", "device": "CPU",
                    "batch_size": 8}],
        "scripts": [{"name": "pre", "path": "pre.py"}],
    }))
    model = plan.entities["infer"]
    assert [(m.name, m.backend, m.batch_size, m.model_path) for m in model.db_models] == [
        ("cnn", "ONNX", 8, str(tmp_path / "cnn.onnx")),
    ]
    assert [s.source() for s in model.db_scripts] == ["def pre(x):\n    return x\n"]


def test_yaml_ml_block_errors_name_their_place(tmp_path):
    with pytest.raises(SchemaError) as info:
        load_plan(write_yaml(tmp_path, {"models": [{"name": "cnn", "backend": "CAFFE",
                                                    "path": "cnn.onnx", "batch_size": -1}]}))
    assert any("models[0].ml.models[0].backend" in e for e in info.value.errors)
    assert any("models[0].ml.models[0].batch_size" in e for e in info.value.errors)
    with pytest.raises(SchemaError) as info:
        load_plan(write_yaml(tmp_path, {"models": [{"name": "cnn", "backend": "ONNX",
                                                    "path": "missing.onnx"}]}))
    assert any("ml.models[0] (cnn)" in e and "does not exist" in e for e in info.value.errors)
