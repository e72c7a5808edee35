"""Write ``cnn.onnx`` (a small CNN built in memory with the onnx helper API, no download)
beside this file, for experiment.yaml: ``python make_models.py``.

The committed ``cnn.onnx`` (22 kB) is what this writes: run it again after changing it."""

import os

from sscontainer.ml.sample_models import onnx_cnn

here = os.path.dirname(os.path.abspath(__file__))
path = os.path.join(here, "cnn.onnx")
with open(path, "wb") as handle:
    handle.write(onnx_cnn(hidden=8, channels=1))
print(f"wrote {path}")
