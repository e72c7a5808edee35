"""TF: frozen TensorFlow graphs (a serialized ``GraphDef``, as SmartSim's
``serialize_model`` writes), run by the names of their input and output nodes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...errors import BackendError
from ..devices import CPU, worker_device
from . import Array, Threads, as_outputs, missing


def _tensorflow() -> Any:
    try:
        import tensorflow
    except ImportError as exc:
        raise missing("TF") from exc
    return tensorflow


def _tensor_name(node: str) -> str:
    return node if ":" in node else f"{node}:0"


class TFModel:
    def __init__(
        self, blob: bytes, device: str, inputs: list[str], outputs: list[str], threads: Threads
    ) -> None:
        tf = _tensorflow()
        if not inputs or not outputs:
            raise BackendError("a TF model needs the names of its input and output nodes")
        v1 = tf.compat.v1
        if worker_device(device) != CPU and not tf.config.list_physical_devices("GPU"):
            raise BackendError(f"device {device} was asked for but TensorFlow sees no GPU here")
        self.graph = tf.Graph()
        try:
            graph_def = v1.GraphDef()
            graph_def.ParseFromString(blob)
            with self.graph.as_default():
                v1.import_graph_def(graph_def, name="")
        except Exception as exc:  # protobuf DecodeError, ValueError...
            raise BackendError(f"TensorFlow could not load the graph: {exc}") from exc
        config = v1.ConfigProto(
            intra_op_parallelism_threads=threads.intra_op or 0,
            inter_op_parallelism_threads=threads.inter_op or 0,
        )
        self.session = v1.Session(graph=self.graph, config=config)
        self.inputs = [_tensor_name(n) for n in inputs]
        self.outputs = [_tensor_name(n) for n in outputs]

    def run(self, inputs: Sequence[Array]) -> list[Array]:
        if len(inputs) != len(self.inputs):
            raise BackendError(
                f"the model takes {len(self.inputs)} input(s), {len(inputs)} were given"
            )
        feed = dict(zip(self.inputs, inputs, strict=True))
        return as_outputs(self.session.run(self.outputs, feed_dict=feed), lambda value: value)


def load_model(
    blob: bytes, device: str, inputs: list[str], outputs: list[str], threads: Threads
) -> TFModel:
    return TFModel(blob, device, inputs, outputs, threads)
