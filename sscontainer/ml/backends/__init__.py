"""Backend runners, imported only when a worker first loads a model of that backend.

Each backend is an optional extra (``pip install sscontainer[torch]`` ...); a
missing one is a :class:`~sscontainer.errors.BackendError` naming the extra, and
nothing here imports a framework at module import time.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from ...errors import BackendError
from ..asset_settings import check_backend

Array = np.ndarray[Any, Any]

# backend -> (runner module, import name of the framework, extra, what to install)
_BACKENDS: dict[str, tuple[str, tuple[str, ...], str, str]] = {
    "TORCH": ("torch", ("torch",), "torch", "PyTorch"),
    "ONNX": ("onnx", ("onnxruntime",), "onnx", "onnxruntime"),
    "TF": ("tf", ("tensorflow",), "tf", "TensorFlow (tensorflow-cpu)"),
    "TFLITE": (
        "tflite", ("ai_edge_litert", "tflite_runtime", "tensorflow"), "tflite",
        "LiteRT (ai-edge-litert)",
    ),
}


@dataclass(frozen=True)
class Threads:
    """Thread counts for the frameworks (None: the framework's default)."""

    intra_op: int | None = None
    inter_op: int | None = None


class ModelRunner(Protocol):
    def run(self, inputs: Sequence[Array]) -> list[Array]: ...


class ScriptRunner(Protocol):
    def call(self, fn_name: str, args: Sequence[Any]) -> list[Array]: ...


def missing(backend: str) -> BackendError:
    _module, _imports, extra, what = _BACKENDS[check_backend(backend)]
    return BackendError(
        f"the {backend} backend needs {what}, which is not installed in this Python "
        f"environment: pip install 'sscontainer[{extra}]'"
    )


def available(backend: str) -> bool:
    """Whether the framework of ``backend`` can be imported here (without importing it)."""
    _module, imports, _extra, _what = _BACKENDS[check_backend(backend)]
    return any(importlib.util.find_spec(name) is not None for name in imports)


def _runner_module(backend: str) -> Any:
    name = _BACKENDS[check_backend(backend)][0]
    return importlib.import_module(f"{__name__}.{name}")


def load_model(
    backend: str,
    blob: bytes,
    device: str,
    inputs: Sequence[str] = (),
    outputs: Sequence[str] = (),
    threads: Threads = Threads(),
) -> ModelRunner:
    """A runner for the serialized model ``blob``; BackendError when it cannot be loaded."""
    runner: ModelRunner = _runner_module(backend).load_model(
        blob, device, list(inputs), list(outputs), threads
    )
    return runner


def load_script(source: str, device: str, threads: Threads = Threads()) -> ScriptRunner:
    """A runner for TorchScript source text (scripts always use the TORCH backend)."""
    runner: ScriptRunner = _runner_module("TORCH").load_script(source, device, threads)
    return runner


def as_outputs(values: Any, convert: Any) -> list[Array]:
    """A framework's result (one value, a tuple or a list) as a list of C-order arrays."""
    items = list(values) if isinstance(values, (list, tuple)) else [values]
    return [np.ascontiguousarray(convert(item)) for item in items]
