"""ML models and scripts attached to a Model or Ensemble, loaded before the entity runs.

``add_ml_model``/``add_script``/``add_function`` record plain, validated data
(:class:`MLModelAsset`, :class:`ScriptAsset`); :mod:`sscontainer.ml.hooks` stores
them in the database when the entity starts (or writes them into its run directory
for a colocated database, whose supervisor loads them).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import EntityExistsError, MissingFileError, SSConfigError
from ..ml.asset_settings import (
    ModelSettings,
    check_asset_name,
    check_backend,
    check_names,
    function_source,
)
from ..ml.devices import CPU, check_count, check_device


@dataclass(frozen=True)
class _Placement:
    """Where an asset runs: ``device`` and, for ``GPU``, how many devices from which."""

    device: str = CPU
    devices_per_node: int = 1
    first_device: int = 0

    def __post_init__(self) -> None:
        device = check_device(self.device)
        object.__setattr__(self, "device", device)
        check_count(self.devices_per_node, "devices_per_node", 1)
        check_count(self.first_device, "first_device")
        if device == CPU and (self.devices_per_node > 1 or self.first_device > 0):
            raise SSConfigError(
                "devices_per_node and first_device only apply to GPU devices: drop them for "
                "device='CPU'"
            )
        if ":" in device and (self.devices_per_node > 1 or self.first_device > 0):
            raise SSConfigError(
                f"device {device!r} names one GPU: use device='GPU' with devices_per_node/"
                "first_device to spread over several"
            )

    @property
    def is_multigpu(self) -> bool:
        return self.device == "GPU" and self.devices_per_node > 1

    @property
    def single_device(self) -> str:
        """The device to store a single-device asset for (``GPU`` honours first_device)."""
        if self.device == "GPU" and self.first_device:
            return f"GPU:{self.first_device}"
        return self.device


def _exactly_one(what: str, value: object, path: object, path_arg: str) -> str | None:
    if (value is None) == (path is None):
        raise SSConfigError(f"give exactly one of {what}= (in memory) or {path_arg}= (a file)")
    if path is None:
        return None
    if not isinstance(path, str) or not path:
        raise SSConfigError(f"{path_arg} must be a file path, got {path!r}")
    full = os.path.abspath(path)
    if not os.path.isfile(full):
        raise MissingFileError(f"{path_arg} {path!r} does not exist (or is not a file)")
    return full


@dataclass(frozen=True)
class MLModelAsset(_Placement):
    """A model to store under ``name`` (bytes in ``model`` or a file at ``model_path``)."""

    name: str = ""
    backend: str = ""
    model: bytes | None = None
    model_path: str | None = None
    batch_size: int = 0
    min_batch_size: int = 0
    min_batch_timeout: int = 0
    tag: str = ""
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        check_asset_name(self.name, "ML model name")
        object.__setattr__(self, "backend", check_backend(self.backend))
        if self.model is not None and not isinstance(self.model, (bytes, bytearray)):
            raise SSConfigError(
                f"model must be the serialized model as bytes, got {type(self.model).__name__}"
            )
        object.__setattr__(self, "model_path",
                           _exactly_one("model", self.model, self.model_path, "model_path"))
        if self.model is not None:
            object.__setattr__(self, "model", bytes(self.model))
        object.__setattr__(self, "inputs", tuple(check_names(self.inputs, "inputs")))
        object.__setattr__(self, "outputs", tuple(check_names(self.outputs, "outputs")))
        self.settings()  # batch sizes, tag and TF's node names are checked once, here

    def settings(self, device: str | None = None) -> ModelSettings:
        return ModelSettings(
            self.backend, device or self.single_device, self.batch_size, self.min_batch_size,
            self.min_batch_timeout, self.tag, self.inputs, self.outputs,
        )

    def data(self) -> bytes:
        if self.model is not None:
            return self.model
        with open(str(self.model_path), "rb") as handle:
            return handle.read()


@dataclass(frozen=True)
class ScriptAsset(_Placement):
    """TorchScript source to store under ``name`` (text, a file or a function's source)."""

    name: str = ""
    script: str | None = None
    script_path: str | None = None
    is_function: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        check_asset_name(self.name, "script name")
        if self.script is not None and (not isinstance(self.script, str) or not self.script):
            raise SSConfigError("script must be TorchScript source text (a non-empty string)")
        object.__setattr__(self, "script_path",
                           _exactly_one("script", self.script, self.script_path, "script_path"))

    def source(self) -> str:
        if self.script is not None:
            return self.script
        with open(str(self.script_path), encoding="utf-8") as handle:
            return handle.read()


class AssetsMixin:
    """``add_ml_model``, ``add_script`` and ``add_function`` for models and ensembles."""

    name: str
    _db_models: list[MLModelAsset]
    _db_scripts: list[ScriptAsset]

    def _init_assets(self) -> None:
        self._db_models = []
        self._db_scripts = []

    @property
    def db_models(self) -> list[MLModelAsset]:
        return list(self._db_models)

    @property
    def db_scripts(self) -> list[ScriptAsset]:
        return list(self._db_scripts)

    @property
    def has_ml_assets(self) -> bool:
        return bool(self._db_models or self._db_scripts)

    def _add_asset(self, asset: MLModelAsset | ScriptAsset) -> None:
        taken = {a.name for a in self._db_models} | {s.name for s in self._db_scripts}
        if asset.name in taken:
            raise EntityExistsError(
                f"{self.name!r} already has an ML model or script named {asset.name!r}: "
                "models and scripts share one key space, give each a unique name"
            )
        if isinstance(asset, MLModelAsset):
            self._db_models.append(asset)
        else:
            self._db_scripts.append(asset)

    def add_ml_model(
        self, name: str, backend: str, model: bytes | None = None, model_path: str | None = None,
        device: str = "CPU", devices_per_node: int = 1, first_device: int = 0,
        batch_size: int = 0, min_batch_size: int = 0, min_batch_timeout: int = 0,
        tag: str = "", inputs: Sequence[str] | None = None, outputs: Sequence[str] | None = None,
    ) -> None:
        """Load a TORCH, ONNX, TF or TFLITE model into the database before this entity runs."""
        self._add_asset(MLModelAsset(
            device=device, devices_per_node=devices_per_node, first_device=first_device,
            name=name, backend=backend, model=model, model_path=model_path,
            batch_size=batch_size, min_batch_size=min_batch_size,
            min_batch_timeout=min_batch_timeout, tag=tag,
            inputs=tuple(check_names(inputs, "inputs")),
            outputs=tuple(check_names(outputs, "outputs")),
        ))

    def add_script(
        self, name: str, script: str | None = None, script_path: str | None = None,
        device: str = "CPU", devices_per_node: int = 1, first_device: int = 0,
    ) -> None:
        """Load TorchScript (source text or a file) into the database before this entity runs."""
        self._add_asset(ScriptAsset(
            device=device, devices_per_node=devices_per_node, first_device=first_device,
            name=name, script=script, script_path=script_path,
        ))

    def add_function(
        self, name: str, function: Callable[..., Any] | None = None, device: str = "CPU",
        devices_per_node: int = 1, first_device: int = 0,
    ) -> None:
        """Load a Python function, compiled as TorchScript from its source, before this runs."""
        self._add_asset(ScriptAsset(
            device=device, devices_per_node=devices_per_node, first_device=first_device,
            name=name, script=function_source(function), is_function=True,
        ))


class EnsembleAssetsMixin(AssetsMixin):
    """An ensemble's assets go to every member (and to members added later)."""

    models: list[Any]

    def _add_asset(self, asset: MLModelAsset | ScriptAsset) -> None:
        for member in self.models:
            if asset.name in {a.name for a in member.db_models + member.db_scripts}:
                raise EntityExistsError(
                    f"member {member.name!r} of {self.name!r} already has an ML model or "
                    f"script named {asset.name!r}"
                )
        super()._add_asset(asset)
        for member in self.models:
            member._add_asset(asset)

    def _extend_member(self, member: Any) -> None:
        """Give a newly added member the ensemble's assets."""
        for asset in [*self._db_models, *self._db_scripts]:
            member._add_asset(asset)
