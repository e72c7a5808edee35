"""TF (frozen graph, INPUTS/OUTPUTS named) and TFLITE models stored and run through the
real SmartRedis client, run by a real worker (heavy: TensorFlow takes seconds to import).

Marked ``heavy_ml``; skipped where the extras are not installed
(``pip install 'sscontainer[tf]' 'sscontainer[tflite]'``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from tests.integration.ml_models import channels_last, require_optional
from tests.integration.redisai_support import (
    kind_db,
    require_smartredis,
    sr_client,
    wait_for_workers,
    workers_for,
)

pytestmark = pytest.mark.heavy_ml


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    require_smartredis()
    require_optional("tensorflow", "tf")  # builds the models for both tests
    with kind_db("uds") as db, workers_for(db):
        wait_for_workers(db)
        yield sr_client(db)


def test_tf_frozen_graph_matches_keras_in_process(client: Any) -> None:
    from sscontainer.ml.sample_models import tf_cnn

    blob, inputs, outputs, keras_model = tf_cnn()
    client.set_model("tf_cnn", blob, "TF", "CPU", inputs=inputs, outputs=outputs)
    x = channels_last(3, seed=1)
    client.put_tensor("tf_in", x)
    client.run_model("tf_cnn", "tf_in", "tf_out")
    np.testing.assert_allclose(client.get_tensor("tf_out"), keras_model(x).numpy(),
                               rtol=1e-4, atol=1e-5)
    with pytest.raises(Exception, match="Number of keys given as INPUTS here does not match"):
        client.run_model("tf_cnn", ["tf_in", "tf_in"], "tf_out")


def test_tflite_matches_the_interpreter_in_process(client: Any) -> None:
    require_optional("ai_edge_litert", "tflite")
    from ai_edge_litert.interpreter import Interpreter

    from sscontainer.ml.sample_models import tflite_cnn

    flatbuffer, _keras = tflite_cnn(seed=2)
    client.set_model("lite_cnn", flatbuffer, "TFLITE", "CPU")
    x = channels_last(1, seed=2)
    client.put_tensor("lite_in", x)
    client.run_model("lite_cnn", "lite_in", "lite_out")
    interpreter = Interpreter(model_content=flatbuffer)
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
    interpreter.invoke()
    expected = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    np.testing.assert_allclose(client.get_tensor("lite_out"), expected, rtol=1e-5, atol=1e-6)
