"""Storing an entity's ML models and scripts, directly or through an assets bundle.

A standard orchestrator gets them from the driver with :func:`store_assets`. A
colocated database does not exist yet when the driver launches the model, so
:func:`write_bundle` writes every asset (in-memory ones included) into the run
directory, ``<model>.ml/``, with a JSON manifest; the colocated supervisor calls
:func:`load_assets` on that manifest once its server answers.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..errors import SSConfigError
from .devices import CPU, worker_device

if TYPE_CHECKING:
    from ..entities.assets import MLModelAsset, ScriptAsset

MANIFEST = "manifest.json"
FORMAT = 1


def store_model(client: Any, asset: MLModelAsset) -> None:
    """``set_model`` (or ``set_model_multigpu``) for one asset, keys as named (no prefix)."""
    settings = asset.settings()
    common = {
        "batch_size": settings.batch_size, "min_batch_size": settings.min_batch_size,
        "min_batch_timeout": settings.min_batch_timeout, "tag": settings.tag,
        "inputs": list(settings.inputs), "outputs": list(settings.outputs),
    }
    if asset.is_multigpu:
        client.set_model_multigpu(asset.name, asset.data(), asset.backend, asset.first_device,
                                  asset.devices_per_node, **common)
    else:
        client.set_model(asset.name, asset.data(), asset.backend, settings.device, **common)


def store_script(client: Any, asset: ScriptAsset) -> None:
    if asset.is_multigpu:
        client.set_script_multigpu(asset.name, asset.source(), asset.first_device,
                                   asset.devices_per_node)
    else:
        client.set_script(asset.name, asset.source(), asset.single_device)


def store_assets(
    client: Any, models: Sequence[MLModelAsset], scripts: Sequence[ScriptAsset]
) -> None:
    for model in models:
        store_model(client, model)
    for script in scripts:
        store_script(client, script)


def asset_devices(models: Sequence[Any], scripts: Sequence[Any]) -> list[str]:
    """The worker devices the assets need (always the CPU: the default device)."""
    devices = {CPU}
    for asset in [*models, *scripts]:
        if asset.is_multigpu:
            devices.update(f"GPU:{asset.first_device + i}" for i in range(asset.devices_per_node))
        else:
            devices.add(worker_device(asset.single_device))
    return sorted(devices)


# --- the bundle a colocated supervisor loads ------------------------------------------
def bundle_dir(run_dir: str, model_name: str) -> str:
    return os.path.join(run_dir, f"{model_name}.ml")


def write_bundle(
    run_dir: str, model_name: str, models: Sequence[MLModelAsset], scripts: Sequence[ScriptAsset]
) -> str:
    """Write every asset and the manifest under ``run_dir``; returns the manifest's path
    relative to ``run_dir`` (the colocated model's working directory wherever it runs)."""
    target = bundle_dir(run_dir, model_name)
    shutil.rmtree(target, ignore_errors=True)
    os.makedirs(target)
    entries: dict[str, list[dict[str, Any]]] = {"models": [], "scripts": []}
    for asset in models:
        file = f"model-{asset.name}.bin"
        if asset.model_path is not None:
            shutil.copyfile(asset.model_path, os.path.join(target, file))
        else:
            with open(os.path.join(target, file), "wb") as handle:
                handle.write(asset.data())
        entries["models"].append({
            "name": asset.name, "backend": asset.backend, "file": file,
            "device": asset.device, "devices_per_node": asset.devices_per_node,
            "first_device": asset.first_device, "batch_size": asset.batch_size,
            "min_batch_size": asset.min_batch_size, "min_batch_timeout": asset.min_batch_timeout,
            "tag": asset.tag, "inputs": list(asset.inputs), "outputs": list(asset.outputs),
        })
    for script in scripts:
        file = f"script-{script.name}.py"
        with open(os.path.join(target, file), "w", encoding="utf-8") as handle:
            handle.write(script.source())
        entries["scripts"].append({
            "name": script.name, "file": file, "device": script.device,
            "devices_per_node": script.devices_per_node, "first_device": script.first_device,
            "is_function": script.is_function,
        })
    with open(os.path.join(target, MANIFEST), "w", encoding="utf-8") as handle:
        json.dump({"format": FORMAT, **entries}, handle, indent=2)
    return os.path.join(os.path.basename(target), MANIFEST)


def read_bundle(assets_file: str) -> tuple[list[MLModelAsset], list[ScriptAsset]]:
    """The assets a manifest describes (their files beside it); SSConfigError if unreadable."""
    from ..entities.assets import MLModelAsset, ScriptAsset

    base = os.path.dirname(os.path.abspath(assets_file))
    try:
        with open(assets_file, encoding="utf-8") as handle:
            data = json.load(handle)
        if data.get("format") != FORMAT:
            raise SSConfigError(f"unknown assets manifest format {data.get('format')!r}")
        models = [
            MLModelAsset(**{**{k: v for k, v in m.items() if k != "file"},
                            "model_path": os.path.join(base, m["file"]),
                            "inputs": tuple(m["inputs"]), "outputs": tuple(m["outputs"])})
            for m in data["models"]
        ]
        scripts = [
            ScriptAsset(**{**{k: v for k, v in s.items() if k != "file"},
                           "script_path": os.path.join(base, s["file"])})
            for s in data["scripts"]
        ]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SSConfigError(f"cannot read the ML assets manifest {assets_file}: {exc}") from exc
    return models, scripts


def load_assets(client: Any, assets_file: str) -> None:
    """Store the assets of the manifest ``assets_file`` (the colocated supervisor's hook)."""
    models, scripts = read_bundle(assets_file)
    store_assets(client, models, scripts)


def manifest_devices(assets_file: str | None) -> list[str]:
    """The worker devices a manifest's assets need (``["CPU"]`` without one)."""
    if not assets_file or not os.path.exists(assets_file):
        return [CPU]
    return asset_devices(*read_bundle(assets_file))
