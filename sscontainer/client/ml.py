"""The models-and-scripts half of :class:`~sscontainer.client.Client` (SmartRedis names).

Models and scripts are stored as hashes (see :mod:`sscontainer.ml.store`) and
run by the inference worker beside the shard that holds them
(:mod:`sscontainer.ml.dispatch`). Keys follow SmartRedis's prefixing rules:
model/script names are prefixed only after ``use_model_ensemble_prefix(True)``;
run inputs are read from the data source and outputs written with the own prefix.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, NoReturn

from ..errors import ClientError, MissingFileError, SSConfigError
from ..ml.devices import check_device, multigpu_devices, multigpu_key
from ..ml.dispatch import DEFAULT_RUN_TIMEOUT_S, WORKER_GRACE_S, run_request
from ..ml.protocol import Request
from ..ml.store import (
    BLOB_FIELD,
    KIND_MODEL,
    KIND_SCRIPT,
    SOURCE_FIELD,
    ModelSettings,
    check_asset_name,
    check_names,
    function_source,
    script_fields,
)
from .client_datasets import _poll
from .connection import REDIS_ERRORS, Target
from .keys import KeyBuilder

Names = str | list[str] | None


def _read_file(path: object, what: str) -> bytes:
    if not isinstance(path, str) or not path:
        raise SSConfigError(f"{what} must be a file path, got {path!r}")
    if not os.path.isfile(path):
        raise MissingFileError(f"{what} {path!r} does not exist (or is not a file)")
    with open(path, "rb") as handle:
        return handle.read()


def _model_bytes(model: object) -> bytes:
    if isinstance(model, (bytes, bytearray, memoryview)):
        return bytes(model)
    raise SSConfigError(
        f"model must be the serialized model as bytes, got {type(model).__name__}: use "
        "set_model_from_file for a file"
    )


class MLMixin:
    """``set_model``/``run_model``/``set_script``/``run_script`` and friends."""

    _redis: Any
    _keys: KeyBuilder
    _target: Target
    _timeout: float
    ml_run_timeout: float = DEFAULT_RUN_TIMEOUT_S  # bound on one run_model/run_script
    ml_worker_grace: float = WORKER_GRACE_S  # how long a missing worker may take to appear

    def _fail(self, exc: BaseException, action: str) -> NoReturn:
        raise NotImplementedError  # provided by Client

    # --- storing ----------------------------------------------------------------------
    def _hset(self, items: list[tuple[str, dict[str, str | bytes]]], action: str) -> None:
        try:
            pipe = self._redis.pipeline(transaction=False)
            for key, fields in items:
                pipe.hset(key, mapping=fields)  # every field at once: no stale settings
            pipe.execute()
        except REDIS_ERRORS as exc:
            self._fail(exc, action)

    def _store_model(
        self, name: str, blob: bytes, backend: str, devices: list[str], multigpu: bool,
        settings: dict[str, Any], action: str,
    ) -> None:
        """One hash, or one per GPU under SmartRedis's ``name.GPU:<i>`` keys."""
        key = self._keys.model_key(check_asset_name(name), for_read=False)
        items = [
            (multigpu_key(key, dev) if multigpu else key,
             ModelSettings(backend, dev, **settings).fields(blob))
            for dev in devices
        ]
        self._hset(items, action)

    def set_model(
        self, name: str, model: bytes, backend: str, device: str = "CPU",
        batch_size: int = 0, min_batch_size: int = 0, min_batch_timeout: int = 0,
        tag: str = "", inputs: Names = None, outputs: Names = None,
    ) -> None:
        """Store a TORCH, ONNX, TF or TFLITE model (its serialized bytes) under ``name``."""
        settings = _settings(batch_size, min_batch_size, min_batch_timeout, tag, inputs, outputs)
        self._store_model(name, _model_bytes(model), backend, [device], False, settings,
                          f"set_model({name!r})")

    def set_model_from_file(
        self, name: str, model_file: str, backend: str, device: str = "CPU",
        batch_size: int = 0, min_batch_size: int = 0, min_batch_timeout: int = 0,
        tag: str = "", inputs: Names = None, outputs: Names = None,
    ) -> None:
        """:meth:`set_model` with the model read from ``model_file``."""
        blob = _read_file(model_file, "model_file")
        self.set_model(name, blob, backend, device, batch_size, min_batch_size,
                       min_batch_timeout, tag, inputs, outputs)

    def set_model_multigpu(
        self, name: str, model: bytes, backend: str, first_gpu: int, num_gpus: int,
        batch_size: int = 0, min_batch_size: int = 0, min_batch_timeout: int = 0,
        tag: str = "", inputs: Names = None, outputs: Names = None,
    ) -> None:
        """Store one copy per GPU (``name.GPU:<i>``), for :meth:`run_model_multigpu`."""
        settings = _settings(batch_size, min_batch_size, min_batch_timeout, tag, inputs, outputs)
        devices = multigpu_devices(first_gpu, num_gpus)
        self._store_model(name, _model_bytes(model), backend, devices, True, settings,
                          f"set_model_multigpu({name!r})")

    def set_model_from_file_multigpu(
        self, name: str, model_file: str, backend: str, first_gpu: int, num_gpus: int,
        batch_size: int = 0, min_batch_size: int = 0, min_batch_timeout: int = 0,
        tag: str = "", inputs: Names = None, outputs: Names = None,
    ) -> None:
        blob = _read_file(model_file, "model_file")
        self.set_model_multigpu(name, blob, backend, first_gpu, num_gpus, batch_size,
                                min_batch_size, min_batch_timeout, tag, inputs, outputs)

    def _store_script(
        self, name: str, source: str, devices: list[str], multigpu: bool, action: str
    ) -> None:
        key = self._keys.model_key(check_asset_name(name), for_read=False)
        items = [
            (multigpu_key(key, dev) if multigpu else key, script_fields(source, dev))
            for dev in devices
        ]
        self._hset(items, action)

    def set_script(self, name: str, script: str, device: str = "CPU") -> None:
        """Store TorchScript source text (one or more functions) under ``name``."""
        self._store_script(name, script, [check_device(device)], False, f"set_script({name!r})")

    def set_script_from_file(self, name: str, file: str, device: str = "CPU") -> None:
        source = _read_file(file, "script file").decode()
        self._store_script(name, source, [check_device(device)], False,
                           f"set_script_from_file({name!r})")

    def set_script_multigpu(self, name: str, script: str, first_gpu: int, num_gpus: int) -> None:
        self._store_script(name, script, multigpu_devices(first_gpu, num_gpus), True,
                           f"set_script_multigpu({name!r})")

    def set_script_from_file_multigpu(
        self, name: str, file: str, first_gpu: int, num_gpus: int
    ) -> None:
        source = _read_file(file, "script file").decode()
        self.set_script_multigpu(name, source, first_gpu, num_gpus)

    def set_function(self, name: str, function: Callable[..., Any], device: str = "CPU") -> None:
        """Store a Python function as a TorchScript script (its source, as SmartRedis does)."""
        self._store_script(name, function_source(function), [check_device(device)], False,
                           f"set_function({name!r})")

    def set_function_multigpu(
        self, name: str, function: Callable[..., Any], first_gpu: int, num_gpus: int
    ) -> None:
        self.set_script_multigpu(name, function_source(function), first_gpu, num_gpus)

    # --- reading and deleting ---------------------------------------------------------
    def _fetch(self, name: str, kind: str, field: str, action: str) -> bytes:
        key = self._keys.model_key(check_asset_name(name), for_read=True)
        try:
            stored_kind, value = self._redis.hmget(key, ["kind", field])
        except REDIS_ERRORS as exc:
            self._fail(exc, action)
        if stored_kind is None or stored_kind.decode() != kind or value is None:
            raise ClientError(f"{action}: no {kind} is stored under key {key!r}")
        return bytes(value)

    def get_model(self, name: str) -> bytes:
        """The serialized model stored under ``name``."""
        return self._fetch(name, KIND_MODEL, BLOB_FIELD, f"get_model({name!r})")

    def get_script(self, name: str) -> str:
        """The TorchScript source stored under ``name``."""
        return self._fetch(name, KIND_SCRIPT, SOURCE_FIELD, f"get_script({name!r})").decode()

    def model_exists(self, name: str) -> bool:
        """Whether a model or script is stored under ``name``."""
        key = self._keys.model_key(check_asset_name(name), for_read=True)
        try:
            return self._redis.hget(key, "kind") is not None
        except REDIS_ERRORS as exc:
            self._fail(exc, f"model_exists({name!r})")

    def poll_model(self, name: str, poll_frequency_ms: int, num_tries: int) -> bool:
        return _poll(lambda: self.model_exists(name), poll_frequency_ms, num_tries)

    def _delete(self, keys: list[str], kind: str, action: str) -> None:
        try:
            pipe = self._redis.pipeline(transaction=False)
            for key in keys:
                pipe.hget(key, "kind")
            kinds = pipe.execute()
            for key, stored in zip(keys, kinds, strict=True):
                if stored is None or stored.decode() != kind:
                    raise ClientError(f"{action}: no {kind} is stored under key {key!r}")
            pipe = self._redis.pipeline(transaction=False)
            for key in keys:
                pipe.delete(key)
            pipe.execute()
        except REDIS_ERRORS as exc:
            self._fail(exc, action)

    def _asset_keys(self, name: str, first_gpu: int | None = None, num_gpus: int = 0) -> list[str]:
        key = self._keys.model_key(check_asset_name(name), for_read=True)
        if first_gpu is None:
            return [key]
        return [multigpu_key(key, dev) for dev in multigpu_devices(first_gpu, num_gpus)]

    def delete_model(self, name: str) -> None:
        self._delete(self._asset_keys(name), KIND_MODEL, f"delete_model({name!r})")

    def delete_model_multigpu(self, name: str, first_gpu: int, num_gpus: int) -> None:
        self._delete(self._asset_keys(name, first_gpu, num_gpus), KIND_MODEL,
                     f"delete_model_multigpu({name!r})")

    def delete_script(self, name: str) -> None:
        self._delete(self._asset_keys(name), KIND_SCRIPT, f"delete_script({name!r})")

    def delete_script_multigpu(self, name: str, first_gpu: int, num_gpus: int) -> None:
        self._delete(self._asset_keys(name, first_gpu, num_gpus), KIND_SCRIPT,
                     f"delete_script_multigpu({name!r})")

    # --- running ----------------------------------------------------------------------
    def _run(self, key: str, fn: str, inputs: Names, outputs: Names, action: str) -> None:
        request = Request(
            key=key,
            inputs=[self._keys.tensor_key(n, for_read=True) for n in check_names(inputs, "inputs")],
            outputs=[
                self._keys.tensor_key(n, for_read=False) for n in check_names(outputs, "outputs")
            ],
            fn=fn,
        )
        try:
            run_request(self._redis, self._target.cluster, request, action, self._timeout,
                        self.ml_run_timeout, self.ml_worker_grace)
        except REDIS_ERRORS as exc:
            self._fail(exc, action)

    def run_model(self, name: str, inputs: Names = None, outputs: Names = None) -> None:
        """Run model ``name`` on the stored tensors ``inputs``, storing ``outputs``."""
        key = self._keys.model_key(check_asset_name(name), for_read=True)
        self._run(key, "", inputs, outputs, f"run_model({name!r})")

    def run_model_multigpu(
        self, name: str, offset: int, first_gpu: int, num_gpus: int,
        inputs: Names = None, outputs: Names = None,
    ) -> None:
        """Run the copy of ``name`` on GPU ``first_gpu + offset % num_gpus``."""
        key = self._multigpu_run_key(name, offset, first_gpu, num_gpus)
        self._run(key, "", inputs, outputs, f"run_model_multigpu({name!r})")

    def run_script(self, name: str, fn_name: str, inputs: Names, outputs: Names) -> None:
        """Run function ``fn_name`` of script ``name`` on ``inputs``, storing ``outputs``."""
        if not isinstance(fn_name, str) or not fn_name:
            raise SSConfigError(f"fn_name must be a function name, got {fn_name!r}")
        key = self._keys.model_key(check_asset_name(name), for_read=True)
        self._run(key, fn_name, inputs, outputs, f"run_script({name!r}, {fn_name!r})")

    def run_script_multigpu(
        self, name: str, fn_name: str, inputs: Names, outputs: Names,
        offset: int, first_gpu: int, num_gpus: int,
    ) -> None:
        if not isinstance(fn_name, str) or not fn_name:
            raise SSConfigError(f"fn_name must be a function name, got {fn_name!r}")
        key = self._multigpu_run_key(name, offset, first_gpu, num_gpus)
        self._run(key, fn_name, inputs, outputs, f"run_script_multigpu({name!r}, {fn_name!r})")

    def _multigpu_run_key(self, name: str, offset: int, first_gpu: int, num_gpus: int) -> str:
        devices = multigpu_devices(first_gpu, num_gpus)
        if isinstance(offset, bool) or not isinstance(offset, int):
            raise SSConfigError(f"offset must be an integer (e.g. the MPI rank), got {offset!r}")
        key = self._keys.model_key(check_asset_name(name), for_read=True)
        return multigpu_key(key, devices[offset % num_gpus])


def _settings(
    batch_size: int, min_batch_size: int, min_batch_timeout: int, tag: str,
    inputs: Names, outputs: Names,
) -> dict[str, Any]:
    return {
        "batch_size": batch_size, "min_batch_size": min_batch_size,
        "min_batch_timeout": min_batch_timeout, "tag": tag,
        "inputs": tuple(check_names(inputs, "inputs")),
        "outputs": tuple(check_names(outputs, "outputs")),
    }
