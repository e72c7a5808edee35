"""Small models built in memory (no downloads), for examples, tests and benchmarks.

:func:`onnx_cnn` needs the ``onnx`` package (``sscontainer[onnx]``),
:func:`torch_cnn` needs PyTorch (``sscontainer[torch]``).
"""

from __future__ import annotations

import io
import warnings
from typing import Any

import numpy as np

from ..errors import BackendError

IMAGE = (1, 28, 28)  # channels, height, width of the sample CNNs' input


def onnx_cnn(hidden: int = 512, channels: int = 8, classes: int = 10, seed: int = 0) -> bytes:
    """A serialized ONNX CNN: 3x3 conv + ReLU, flatten, dense ``hidden`` + ReLU, dense.

    Input ``x`` is ``(batch, 1, 28, 28)`` float32, output ``y`` ``(batch, classes)``.
    """
    try:
        from onnx import TensorProto, helper, numpy_helper
    except ImportError as exc:
        raise BackendError("building an ONNX model needs onnx: pip install 'sscontainer[onnx]'") \
            from exc
    rng = np.random.default_rng(seed)
    flat = channels * (IMAGE[1] - 2) * (IMAGE[2] - 2)

    def weight(name: str, *shape: int, scale: float) -> Any:
        return numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32),
                                       name)

    initializers = [
        weight("conv_w", channels, 1, 3, 3, scale=0.3),
        weight("conv_b", channels, scale=0.1),
        weight("w1", flat, hidden, scale=0.02),
        weight("b1", hidden, scale=0.1),
        weight("w2", hidden, classes, scale=0.1),
        weight("b2", classes, scale=0.1),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "conv_w", "conv_b"], ["conv"], kernel_shape=[3, 3]),
        helper.make_node("Relu", ["conv"], ["conv_relu"]),
        helper.make_node("Flatten", ["conv_relu"], ["flat"], axis=1),
        helper.make_node("Gemm", ["flat", "w1", "b1"], ["hidden"]),
        helper.make_node("Relu", ["hidden"], ["hidden_relu"]),
        helper.make_node("Gemm", ["hidden_relu", "w2", "b2"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes, "cnn",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", *IMAGE])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", classes])],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8  # readable by every onnxruntime >= 1.16
    return bytes(model.SerializeToString())


def torch_cnn(seed: int = 0) -> tuple[bytes, Any]:
    """``(TorchScript bytes, the traced module)`` of a small CNN on ``(batch, 1, 28, 28)``."""
    try:
        import torch
    except ImportError as exc:
        raise BackendError("building a Torch model needs PyTorch: pip install "
                           "'sscontainer[torch]'") from exc
    torch.manual_seed(seed)

    class Net(torch.nn.Module):  # type: ignore[misc,unused-ignore]
        def __init__(self) -> None:
            super().__init__()
            self.conv = torch.nn.Conv2d(1, 4, 3)
            self.dense = torch.nn.Linear(4 * 26 * 26, 10)

        def forward(self, x: Any) -> Any:
            return self.dense(torch.relu(self.conv(x)).flatten(1))

    trace: Any = torch.jit.trace  # untyped in some torch releases
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # TorchScript is deprecated upstream but it is what the TORCH backend runs (as RedisAI)
        warnings.simplefilter("ignore", DeprecationWarning)
        module = trace(Net().eval(), torch.zeros(2, *IMAGE))
        torch.jit.save(module, buffer)
    return buffer.getvalue(), module


def _keras_cnn(seed: int) -> Any:
    try:
        import tensorflow as tf
    except ImportError as exc:
        raise BackendError("building a TF model needs TensorFlow: pip install "
                           "'sscontainer[tf]'") from exc
    tf.keras.utils.set_random_seed(seed)
    return tf, tf.keras.Sequential([
        tf.keras.Input((*IMAGE[1:], IMAGE[0])),  # TF is channels-last
        tf.keras.layers.Conv2D(4, 3, activation="relu"),
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(10),
    ])


def serialize_model(keras_model: Any) -> tuple[bytes, list[str], list[str]]:
    """A Keras model as a frozen graph: ``(bytes, input names, output names)``, the
    form ``add_ml_model(..., backend="TF", inputs=..., outputs=...)`` takes (as SmartSim's
    ``smartsim.ml.tf.serialize_model``)."""
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    spec = tf.TensorSpec([None, *keras_model.inputs[0].shape[1:]], keras_model.inputs[0].dtype)
    function = tf.function(lambda x: keras_model(x)).get_concrete_function(spec)
    frozen = convert_variables_to_constants_v2(function)
    graph = frozen.graph.as_graph_def()
    inputs = [t.name.split(":")[0] for t in frozen.inputs]
    outputs = [t.name.split(":")[0] for t in frozen.outputs]
    return graph.SerializeToString(), inputs, outputs


def tf_cnn(seed: int = 0) -> tuple[bytes, list[str], list[str], Any]:
    """``(frozen graph bytes, inputs, outputs, the Keras model)`` on ``(batch, 28, 28, 1)``."""
    _tf, model = _keras_cnn(seed)
    blob, inputs, outputs = serialize_model(model)
    return blob, inputs, outputs, model


def tflite_cnn(seed: int = 0) -> tuple[bytes, Any]:
    """``(TFLite flatbuffer, the Keras model)`` on ``(batch, 28, 28, 1)`` float32."""
    tf, model = _keras_cnn(seed)
    return bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert()), model
