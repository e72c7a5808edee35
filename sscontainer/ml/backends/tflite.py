"""TFLITE: TensorFlow Lite flatbuffers, run with LiteRT (or tflite_runtime/TensorFlow)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ...errors import BackendError
from ..devices import CPU, worker_device
from . import Array, Threads, missing


def _interpreter_class() -> Any:
    try:
        from ai_edge_litert.interpreter import Interpreter

        return Interpreter
    except ImportError:
        pass
    try:
        from tflite_runtime.interpreter import Interpreter

        return Interpreter
    except ImportError:
        pass
    try:
        import tensorflow

        return tensorflow.lite.Interpreter
    except ImportError as exc:
        raise missing("TFLITE") from exc


class TFLiteModel:
    def __init__(self, blob: bytes, device: str, threads: Threads) -> None:
        if worker_device(device) != CPU:
            raise BackendError("the TFLITE backend runs on the CPU only: store it for 'CPU'")
        interpreter = _interpreter_class()
        try:
            self.interpreter = interpreter(model_content=blob, num_threads=threads.intra_op)
            self.interpreter.allocate_tensors()
        except Exception as exc:  # ValueError for a bad flatbuffer, RuntimeError...
            raise BackendError(f"LiteRT could not load the model: {exc}") from exc

    def run(self, inputs: Sequence[Array]) -> list[Array]:
        details = self.interpreter.get_input_details()
        if len(inputs) != len(details):
            raise BackendError(f"the model takes {len(details)} input(s), {len(inputs)} given")
        resized = False
        for detail, value in zip(details, inputs, strict=True):
            if tuple(detail["shape"]) != value.shape:
                self.interpreter.resize_tensor_input(detail["index"], list(value.shape))
                resized = True
        if resized:
            self.interpreter.allocate_tensors()
        for detail, value in zip(details, inputs, strict=True):
            self.interpreter.set_tensor(detail["index"], np.ascontiguousarray(value))
        self.interpreter.invoke()
        return [
            np.array(self.interpreter.get_tensor(d["index"]))
            for d in self.interpreter.get_output_details()
        ]


def load_model(
    blob: bytes, device: str, inputs: list[str], outputs: list[str], threads: Threads
) -> TFLiteModel:
    return TFLiteModel(blob, device, threads)
