"""ONNX: models run with onnxruntime (CUDA provider for GPU devices when installed)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...errors import BackendError
from ..devices import CPU, worker_device
from . import Array, Threads, as_outputs, missing


def _onnxruntime() -> Any:
    try:
        import onnxruntime
    except ImportError as exc:
        raise missing("ONNX") from exc
    return onnxruntime


class OnnxModel:
    def __init__(self, blob: bytes, device: str, threads: Threads) -> None:
        ort = _onnxruntime()
        options = ort.SessionOptions()
        # idle pool threads must sleep, not spin: the worker shares its CPUs with the database
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        if threads.intra_op:
            options.intra_op_num_threads = threads.intra_op
        if threads.inter_op:
            options.inter_op_num_threads = threads.inter_op
        providers = ["CPUExecutionProvider"]
        if worker_device(device) != CPU:
            if "CUDAExecutionProvider" not in ort.get_available_providers():
                raise BackendError(
                    f"device {device} was asked for but this onnxruntime has no CUDA provider "
                    "(install onnxruntime-gpu) : store the model for 'CPU'"
                )
            providers = ["CUDAExecutionProvider"]
        try:
            self.session = ort.InferenceSession(blob, options, providers=providers)
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph classes
            raise BackendError(f"onnxruntime could not load the model: {exc}") from exc
        self.input_names = [i.name for i in self.session.get_inputs()]

    def run(self, inputs: Sequence[Array]) -> list[Array]:
        if len(inputs) != len(self.input_names):
            raise BackendError(
                f"the model takes {len(self.input_names)} input(s) "
                f"({', '.join(self.input_names)}), {len(inputs)} were given"
            )
        feed = dict(zip(self.input_names, inputs, strict=True))
        return as_outputs(self.session.run(None, feed), lambda value: value)


def load_model(
    blob: bytes, device: str, inputs: list[str], outputs: list[str], threads: Threads
) -> OnnxModel:
    return OnnxModel(blob, device, threads)
