"""Models and scripts: the part of :class:`Client` that stores, runs and deletes them.

``AI.MODELSTORE`` (the model bytes in chunks of the database's ``MODEL_CHUNK_SIZE``)
and ``AI.SCRIPTSET``; ``AI.MODELEXECUTE`` / ``AI.SCRIPTRUN``. In a Redis Cluster
each is stored once per shard under ``{P}.name`` and a run copies its inputs to
temporary ``{P}.<input>.TMP`` keys on the model's shard and its outputs back, as
SmartRedis does (see :mod:`cluster`). Argument checks and their exception classes
are SmartRedis's; the run itself is in :mod:`model_runs`.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from typing import Any

from ..errors import MissingFileError
from .backend import Backend
from .checks import api, int_arg, typecheck
from .error import ArgumentTypeError, ParameterError, RedisRuntimeError
from .keys import KeyBuilder
from .model_runs import (
    Names,
    RunMixin,
    chunks,
    device_arg,
    gpu_keys,
    modelstore_args,
    run_key,
    tensor_args,
)
from .wire import Arg

BACKENDS = ("TF", "TFLITE", "TORCH", "ONNX")


def _backend(backend: str) -> str:
    backend = backend.upper()
    if backend not in BACKENDS:
        raise ArgumentTypeError(f"Backend type {backend} unsupported: use one of "
                                f"{', '.join(BACKENDS)}")
    return backend


def _file(path: str) -> str:
    full = os.path.abspath(path)
    if not os.path.isfile(full):
        raise MissingFileError(full)
    return full


def _check_batching(batch_size: int, min_batch_size: int, min_batch_timeout: int) -> None:
    if batch_size == 0 and (min_batch_size > 0 or min_batch_timeout > 0):
        raise RedisRuntimeError(
            "batch_size must be non-zero if min_batch_size or min_batch_timeout is used; "
            "otherwise batching will not be performed."
        )
    if min_batch_timeout > 0 and min_batch_size == 0:
        raise RedisRuntimeError(
            "min_batch_size must be non-zero if min_batch_timeout is used; otherwise the "
            "min_batch_timeout parameter is ignored."
        )


def _batch(batch_size: int, min_batch_size: int, min_batch_timeout: int) -> tuple[int, int, int]:
    """The batching arguments, each checked to be an int (in this order)."""
    return (int_arg(batch_size, "batch_size"), int_arg(min_batch_size, "min_batch_size"),
            int_arg(min_batch_timeout, "min_batch_timeout"))


def _check_model(name: str, backend: str, inputs: list[str], outputs: list[str]) -> None:
    if not name:
        raise ParameterError("name is a required parameter of set_model.")
    if backend != "TF" and (inputs or outputs):
        raise ParameterError(
            f"{'INPUTS' if inputs else 'OUTPUTS'} in the model set command is only valid "
            "for TF models"
        )


def _check_device(device: str) -> None:
    if device != "CPU" and "GPU" not in device:
        raise RedisRuntimeError(f"{device} is not a valid device (use CPU, GPU or GPU:<n>).")


def _check_gpus(first_gpu: int, num_gpus: int) -> None:
    if first_gpu < 0:
        raise ParameterError("first_gpu must be a non-negative integer")
    if num_gpus < 1:
        raise ParameterError("num_gpus must be a positive integer.")


class ModelMixin(RunMixin):
    """``set_model``, ``run_model``, ``set_script``, ``run_script``... (SmartRedis's)."""

    _db: Backend
    _keys: KeyBuilder
    _model_chunk_size: int
    _poll: Callable[[Callable[[], bool], int, int], bool]
    _exists: Callable[[str | bytes], bool]

    # --- storing ------------------------------------------------------------------------
    def _chunk_size(self) -> int:
        if self._model_chunk_size > 0:
            return self._model_chunk_size
        size = self._db.call_any("AI.CONFIG", "GET", "MODEL_CHUNK_SIZE")
        if not isinstance(size, int):
            raise RedisRuntimeError("An unexpected type was returned for the model chunk size.")
        if size <= 0:
            raise RedisRuntimeError(f"An invalid value was returned for the model chunk size: "
                                    f"{size}")
        return size

    def _store_everywhere(self, key: str, args: list[Arg]) -> None:
        """``args`` (key at index 1) on the key's node, or on every shard of a cluster."""
        for stored_key in self._db.model_keys(key):
            self._db.call(stored_key, args[0], stored_key, *args[2:])

    def _store_model(self, name: str, model: Any, backend: str, device: str, batch: tuple[
            int, int, int], tag: str, inputs: list[str], outputs: list[str]) -> None:
        _check_model(name, backend, inputs, outputs)
        _check_device(device)
        _check_batching(*batch)
        key = self._keys.model(name, False)
        pieces = chunks(model, self._chunk_size())
        self._store_everywhere(key, modelstore_args(key, backend, device, batch, tag, inputs,
                                                    outputs, pieces))

    def _store_model_multigpu(self, name: str, model: Any, backend: str, first_gpu: int,
                              num_gpus: int, batch: tuple[int, int, int], tag: str,
                              inputs: list[str], outputs: list[str]) -> None:
        _check_model(name, backend, inputs, outputs)
        _check_gpus(first_gpu, num_gpus)
        _check_batching(*batch)
        key = self._keys.model(name, False)
        pieces = chunks(model, self._chunk_size())
        for gpu_key, device in gpu_keys(key, first_gpu, num_gpus):
            self._store_everywhere(gpu_key, modelstore_args(
                gpu_key, backend, device, batch, tag, inputs, outputs, pieces))

    @api
    def set_model(self, name: str, model: bytes, backend: str, device: str = "CPU",
                  batch_size: int = 0, min_batch_size: int = 0, min_batch_timeout: int = 0,
                  tag: str = "", inputs: Names = None, outputs: Names = None) -> None:
        """Store a serialized model (``backend``: TF, TFLITE, TORCH or ONNX)."""
        for value, label in ((name, "name"), (backend, "backend"), (device, "device")):
            typecheck(value, label, str)
        batch = _batch(batch_size, min_batch_size, min_batch_timeout)
        typecheck(tag, "tag", str)
        device, backend = device_arg(device), _backend(backend)
        ins, outs = tensor_args(inputs, outputs)
        self._store_model(name, model, backend, device, batch, tag, ins, outs)

    @api
    def set_model_from_file(self, name: str, model_file: str, backend: str,
                            device: str = "CPU", batch_size: int = 0, min_batch_size: int = 0,
                            min_batch_timeout: int = 0, tag: str = "", inputs: Names = None,
                            outputs: Names = None) -> None:
        for value, label in ((name, "name"), (model_file, "model_file"),
                             (backend, "backend"), (device, "device")):
            typecheck(value, label, str)
        batch = _batch(batch_size, min_batch_size, min_batch_timeout)
        typecheck(tag, "tag", str)
        device, backend = device_arg(device), _backend(backend)
        path = _file(model_file)
        ins, outs = tensor_args(inputs, outputs)
        with open(path, "rb") as handle:
            model = handle.read()
        self._store_model(name, model, backend, device, batch, tag, ins, outs)

    @api
    def set_model_multigpu(self, name: str, model: bytes, backend: str, first_gpu: int,
                           num_gpus: int, batch_size: int = 0, min_batch_size: int = 0,
                           min_batch_timeout: int = 0, tag: str = "", inputs: Names = None,
                           outputs: Names = None) -> None:
        """Store one copy per GPU (``name.GPU:<i>``) and one under ``name`` (device GPU)."""
        typecheck(name, "name", str)
        typecheck(backend, "backend", str)
        gpus = int_arg(first_gpu, "first_gpu"), int_arg(num_gpus, "num_gpus")
        batch = _batch(batch_size, min_batch_size, min_batch_timeout)
        typecheck(tag, "tag", str)
        backend = _backend(backend)
        ins, outs = tensor_args(inputs, outputs)
        self._store_model_multigpu(name, model, backend, *gpus, batch, tag, ins, outs)

    @api
    def set_model_from_file_multigpu(self, name: str, model_file: str, backend: str,
                                     first_gpu: int, num_gpus: int, batch_size: int = 0,
                                     min_batch_size: int = 0, min_batch_timeout: int = 0,
                                     tag: str = "", inputs: Names = None,
                                     outputs: Names = None) -> None:
        for value, label in ((name, "name"), (model_file, "model_file"), (backend, "backend")):
            typecheck(value, label, str)
        gpus = int_arg(first_gpu, "first_gpu"), int_arg(num_gpus, "num_gpus")
        batch = _batch(batch_size, min_batch_size, min_batch_timeout)
        typecheck(tag, "tag", str)
        backend = _backend(backend)
        path = _file(model_file)
        ins, outs = tensor_args(inputs, outputs)
        with open(path, "rb") as handle:
            model = handle.read()
        self._store_model_multigpu(name, model, backend, *gpus, batch, tag, ins, outs)

    def _store_script(self, name: str, device: str, source: str) -> None:
        _check_device(device)
        key = self._keys.model(name, False)
        self._store_everywhere(key, ["AI.SCRIPTSET", key, device, "SOURCE", source])

    def _store_script_multigpu(self, name: str, source: str, first_gpu: int,
                               num_gpus: int) -> None:
        _check_gpus(first_gpu, num_gpus)
        key = self._keys.model(name, False)
        for gpu_key, device in gpu_keys(key, first_gpu, num_gpus):
            self._store_everywhere(gpu_key, ["AI.SCRIPTSET", gpu_key, device, "SOURCE", source])

    @api
    def set_script(self, name: str, script: str, device: str = "CPU") -> None:
        """Store TorchScript source (one or more functions) under ``name``."""
        typecheck(name, "name", str)
        typecheck(script, "script", str)
        typecheck(device, "device", str)
        self._store_script(name, device_arg(device), script)

    @api
    def set_script_from_file(self, name: str, file: str, device: str = "CPU") -> None:
        typecheck(name, "name", str)
        typecheck(file, "file", str)
        typecheck(device, "device", str)
        device = device_arg(device)
        with open(_file(file), encoding="utf-8") as handle:
            self._store_script(name, device, handle.read())

    @api
    def set_function(self, name: str, function: Callable[..., Any], device: str = "CPU") -> None:
        """Store a function's source text as a script (it runs as TorchScript)."""
        typecheck(name, "name", str)
        typecheck(device, "device", str)
        if not callable(function):
            raise ArgumentTypeError(
                f"Argument provided for function, {type(function)}, is not callable"
            )
        self._store_script(name, device_arg(device), inspect.getsource(function))

    @api
    def set_script_multigpu(self, name: str, script: str, first_gpu: int, num_gpus: int) -> None:
        typecheck(name, "name", str)
        typecheck(script, "script", str)
        self._store_script_multigpu(name, script, int_arg(first_gpu, "first_gpu"),
                                    int_arg(num_gpus, "num_gpus"))

    @api
    def set_script_from_file_multigpu(self, name: str, file: str, first_gpu: int,
                                      num_gpus: int) -> None:
        typecheck(name, "name", str)
        typecheck(file, "file", str)
        gpus = int_arg(first_gpu, "first_gpu"), int_arg(num_gpus, "num_gpus")
        with open(_file(file), encoding="utf-8") as handle:
            self._store_script_multigpu(name, handle.read(), *gpus)

    @api
    def set_function_multigpu(self, name: str, function: Callable[..., Any], first_gpu: int,
                              num_gpus: int) -> None:
        typecheck(name, "name", str)
        gpus = int_arg(first_gpu, "first_gpu"), int_arg(num_gpus, "num_gpus")
        if not callable(function):
            raise ArgumentTypeError(
                f"Argument provided for function, {type(function)}, is not callable"
            )
        self._store_script_multigpu(name, inspect.getsource(function), *gpus)

    # --- reading, deleting, existence ----------------------------------------------------
    @api
    def get_model(self, name: str) -> bytes:
        """The model bytes stored under ``name``."""
        typecheck(name, "name", str)
        key = self._db.model_read_key(self._keys.model(name, True))
        reply = self._db.call(key, "AI.MODELGET", key, "BLOB")
        return b"".join(reply) if isinstance(reply, list) else bytes(reply)

    @api
    def get_script(self, name: str) -> str:
        """The source text of script ``name``."""
        typecheck(name, "name", str)
        key = self._db.model_read_key(self._keys.model(name, True))
        return bytes(self._db.call(key, "AI.SCRIPTGET", key, "SOURCE")).decode()

    def _delete_everywhere(self, command: str, key: str, missing_ok: bool = False) -> None:
        for stored_key in self._db.model_keys(key):
            try:
                self._db.call(stored_key, command, stored_key)
            except RedisRuntimeError as exc:
                if not (missing_ok and "key is empty" in str(exc)):
                    raise

    def _delete_multigpu(self, command: str, name: str, first_gpu: int, num_gpus: int) -> None:
        _check_gpus(first_gpu, num_gpus)
        key = self._keys.model(name, True)
        for gpu_key, _ in gpu_keys(key, first_gpu, num_gpus):
            # keys SmartRedis's own loop (i < num_gpus) does not create may be missing
            index = int(gpu_key.rsplit(":", 1)[1]) if gpu_key != key else -1
            self._delete_everywhere(command, gpu_key, missing_ok=index >= num_gpus)

    @api
    def delete_model(self, name: str) -> None:
        typecheck(name, "name", str)
        self._delete_everywhere("AI.MODELDEL", self._keys.model(name, True))

    @api
    def delete_model_multigpu(self, name: str, first_gpu: int, num_gpus: int) -> None:
        typecheck(name, "name", str)
        self._delete_multigpu("AI.MODELDEL", name, int_arg(first_gpu, "first_gpu"),
                              int_arg(num_gpus, "num_gpus"))

    @api
    def delete_script(self, name: str) -> None:
        typecheck(name, "name", str)
        self._delete_everywhere("AI.SCRIPTDEL", self._keys.model(name, True))

    @api
    def delete_script_multigpu(self, name: str, first_gpu: int, num_gpus: int) -> None:
        typecheck(name, "name", str)
        self._delete_multigpu("AI.SCRIPTDEL", name, int_arg(first_gpu, "first_gpu"),
                              int_arg(num_gpus, "num_gpus"))

    def _model_exists(self, name: str) -> bool:
        return self._exists(self._db.model_read_key(self._keys.model(name, True)))

    @api
    def model_exists(self, name: str) -> bool:
        """Whether a model or script is stored under ``name``."""
        typecheck(name, "name", str)
        return self._model_exists(name)

    @api
    def poll_model(self, name: str, poll_frequency_ms: int, num_tries: int) -> bool:
        typecheck(name, "name", str)
        return self._poll(lambda: self._model_exists(name), poll_frequency_ms, num_tries)

    # --- running -------------------------------------------------------------------------
    @api
    def run_model(self, name: str, inputs: Names = None, outputs: Names = None) -> None:
        """Run model ``name`` on the stored tensors ``inputs``, storing ``outputs``."""
        typecheck(name, "name", str)
        ins, outs = tensor_args(inputs, outputs)
        self._run(None, self._keys.model(name, True), ins, outs)

    @api
    def run_model_multigpu(self, name: str, offset: int, first_gpu: int, num_gpus: int,
                           inputs: Names = None, outputs: Names = None) -> None:
        """Run the copy of ``name`` on GPU ``first_gpu + offset % num_gpus``."""
        typecheck(name, "name", str)
        where = [int_arg(v, n) for v, n in ((offset, "offset"), (first_gpu, "first_gpu"),
                                           (num_gpus, "num_gpus"))]
        ins, outs = tensor_args(inputs, outputs)
        _check_gpus(where[1], where[2])
        self._run(None, run_key(self._keys.model(name, True), *where), ins, outs)

    @api
    def run_script(self, name: str, fn_name: str, inputs: Names, outputs: Names) -> None:
        """Run function ``fn_name`` of script ``name`` on ``inputs``, storing ``outputs``."""
        typecheck(name, "name", str)
        typecheck(fn_name, "fn_name", str)
        ins, outs = tensor_args(inputs, outputs)
        self._run(fn_name, self._keys.model(name, True), ins, outs)

    @api
    def run_script_multigpu(self, name: str, fn_name: str, inputs: Names, outputs: Names,
                            offset: int, first_gpu: int, num_gpus: int) -> None:
        typecheck(name, "name", str)
        typecheck(fn_name, "fn_name", str)
        where = [int_arg(v, n) for v, n in ((offset, "offset"), (first_gpu, "first_gpu"),
                                           (num_gpus, "num_gpus"))]
        ins, outs = tensor_args(inputs, outputs)
        _check_gpus(where[1], where[2])
        self._run(fn_name, run_key(self._keys.model(name, True), *where), ins, outs)
