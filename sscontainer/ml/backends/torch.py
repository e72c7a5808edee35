"""TORCH: TorchScript models (``torch.jit.save``) and TorchScript scripts/functions."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import numpy as np

from ...errors import BackendError
from ..devices import CPU, worker_device
from . import Array, Threads, as_outputs, missing

_threads_set = False


def _torch(threads: Threads) -> Any:
    global _threads_set
    try:
        import torch
    except ImportError as exc:
        raise missing("TORCH") from exc
    if not _threads_set:  # PyTorch allows setting the inter-op pool once per process
        _threads_set = True
        if threads.intra_op:
            torch.set_num_threads(threads.intra_op)
        if threads.inter_op:
            try:
                torch.set_num_interop_threads(threads.inter_op)
            except RuntimeError:
                pass  # already fixed by earlier parallel work
    return torch


def _device(torch: Any, device: str) -> str:
    if worker_device(device) == CPU:
        return "cpu"
    if not torch.cuda.is_available():
        raise BackendError(
            f"device {device} was asked for but PyTorch sees no CUDA device here "
            "(a CPU-only build, or CUDA_VISIBLE_DEVICES hides it): store the model for 'CPU'"
        )
    return "cuda"  # the worker for GPU:k sees only GPU k (CUDA_VISIBLE_DEVICES=k)


def _to_torch(torch: Any, arrays: Sequence[Array], device: str) -> list[Any]:
    # stored tensors are read-only views of the reply: torch needs writable memory
    return [torch.from_numpy(np.require(a, requirements="W")).to(device) for a in arrays]


def _to_numpy(value: Any) -> Array:
    if not hasattr(value, "detach"):
        raise BackendError(f"the model returned a {type(value).__name__}, not a tensor")
    result: Array = value.detach().cpu().numpy()
    return result


def _script_scope(torch: Any) -> dict[str, Any]:
    """The names a stored script may use without importing them (as under RedisAI)."""
    import math
    import typing

    scope: dict[str, Any] = {"torch": torch, "Tensor": torch.Tensor, "math": math}
    scope.update({n: getattr(typing, n) for n in ("List", "Dict", "Tuple", "Optional")})
    return scope


class TorchModel:
    def __init__(self, blob: bytes, device: str, threads: Threads) -> None:
        self.torch = _torch(threads)
        self.device = _device(self.torch, device)
        try:
            self.module = self.torch.jit.load(io.BytesIO(blob), map_location=self.device)
        except Exception as exc:  # torch raises RuntimeError and friends: report them all
            raise BackendError(f"TorchScript could not load the model: {exc}") from exc
        self.module.eval()

    def run(self, inputs: Sequence[Array]) -> list[Array]:
        with self.torch.inference_mode():
            result = self.module(*_to_torch(self.torch, inputs, self.device))
        return as_outputs(result, _to_numpy)


class TorchScript:
    def __init__(self, source: str, device: str, threads: Threads) -> None:
        self.torch = _torch(threads)
        self.device = _device(self.torch, device)
        scope = _script_scope(self.torch)
        try:
            self.unit = self.torch.jit.CompilationUnit()
            self.unit.define(source, rcb=scope.get)
        except Exception as exc:
            raise BackendError(f"TorchScript could not compile the script: {exc}") from exc

    def call(self, fn_name: str, args: Sequence[Any]) -> list[Array]:
        """``fn_name(*args)``: arrays become tensors, lists of arrays lists of tensors
        (SCRIPTRUN's ``$``, SCRIPTEXECUTE's inputs), strings stay strings."""
        try:
            function = getattr(self.unit, fn_name)
        except (AttributeError, RuntimeError):
            raise BackendError(f"the script defines no function {fn_name!r}") from None
        with self.torch.inference_mode():
            result = function(*[self._argument(a) for a in args])
        return as_outputs(result, _to_numpy)

    def _argument(self, value: Any) -> Any:
        if isinstance(value, np.ndarray):
            return _to_torch(self.torch, [value], self.device)[0]
        if isinstance(value, list):
            return [self._argument(v) for v in value]
        return value


def load_model(
    blob: bytes, device: str, inputs: list[str], outputs: list[str], threads: Threads
) -> TorchModel:
    return TorchModel(blob, device, threads)


def load_script(source: str, device: str, threads: Threads) -> TorchScript:
    return TorchScript(source, device, threads)
