"""TF and TFLITE models through a real worker (heavy: TensorFlow takes seconds to import).

Marked ``heavy_ml``; skipped where the extras are not installed
(``pip install 'sscontainer[tf]' 'sscontainer[tflite]'``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import numpy as np
import pytest

from sscontainer.client import Client
from sscontainer.client.direct import connect
from sscontainer.db.local import LocalDatabase
from sscontainer.ml.processes import start_worker, stop_workers
from tests.integration.db_fixtures import require_server, short_tmpdir
from tests.integration.ml_models import channels_last, require_optional

pytestmark = pytest.mark.heavy_ml


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    require_server()
    require_optional("tensorflow", "tf")  # builds the models for both tests
    sock_dir = short_tmpdir()
    with LocalDatabase(unix_socket=os.path.join(sock_dir, "db.sock")) as db:
        worker = start_worker(db.ssdb, log_path=os.path.join(sock_dir, "worker.log"))
        try:
            yield connect(db.ssdb, cluster=False)
        finally:
            stop_workers([worker])
    shutil.rmtree(sock_dir, ignore_errors=True)


def test_tf_frozen_graph_matches_keras_in_process(client):
    from sscontainer.ml.sample_models import tf_cnn

    blob, inputs, outputs, keras_model = tf_cnn()
    client.set_model("tf_cnn", blob, "TF", inputs=inputs, outputs=outputs)
    x = channels_last(3, seed=1)
    client.put_tensor("tf_in", x)
    client.run_model("tf_cnn", "tf_in", "tf_out")
    np.testing.assert_allclose(client.get_tensor("tf_out"), keras_model(x).numpy(),
                               rtol=1e-4, atol=1e-5)


def test_tflite_matches_the_interpreter_in_process(client):
    require_optional("ai_edge_litert", "tflite")
    from ai_edge_litert.interpreter import Interpreter

    from sscontainer.ml.sample_models import tflite_cnn

    flatbuffer, _keras = tflite_cnn(seed=2)
    client.set_model("lite_cnn", flatbuffer, "TFLITE")
    x = channels_last(1, seed=2)
    client.put_tensor("lite_in", x)
    client.run_model("lite_cnn", "lite_in", "lite_out")
    interpreter = Interpreter(model_content=flatbuffer)
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
    interpreter.invoke()
    expected = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    np.testing.assert_allclose(client.get_tensor("lite_out"), expected, rtol=1e-5, atol=1e-6)
