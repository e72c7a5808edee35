"""ML models and scripts with sscontainer: ``python experiment.py [--port 6379]``.

The guide's examples: an in-memory model (a small ONNX CNN, built here), the
``negate`` TorchScript string and the ``timestwo`` function. The same assets are
loaded for a model using a standard database and for a colocated model (which
gets them from its run directory); both run infer.py. Needs sscontainer[ml].
"""

import argparse
import json
import os
import sys

from sscontainer import Experiment
from sscontainer.ml.sample_models import onnx_cnn

here = os.path.dirname(os.path.abspath(__file__))
parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--port", type=int, default=6379)
args = parser.parse_args()

torch_script_str = "def negate(x):\n\treturn torch.neg(x)\n"


def timestwo(x):
    return 2 * x


exp = Experiment("ml-inference", exp_path=os.path.join(here, "runs", "ml-inference-py"))
db = exp.create_database(port=args.port, db_nodes=1, interface="lo")

settings = exp.create_run_settings(exe=sys.executable, exe_args=os.path.join(here, "infer.py"))
standard = exp.create_model("inference", settings)
colocated = exp.create_model("inference_colocated", settings)
colocated.colocate_db_uds()
cnn = onnx_cnn(hidden=64, channels=4)
for model in (standard, colocated):
    model.add_ml_model(name="cnn", backend="ONNX", model=cnn, device="CPU")
    model.add_script(name="negate", script=torch_script_str, device="CPU")
    model.add_function(name="timestwo", function=timestwo, device="CPU")
exp.generate(db, standard, colocated, overwrite=True)

exp.start(db)
try:
    exp.start(standard, colocated, block=True, summary=True)
finally:
    exp.stop(db)
for model in (standard, colocated):
    with open(os.path.join(model.path, f"{model.name}.out"), encoding="utf-8") as handle:
        print(model.name, json.loads(handle.read().strip().splitlines()[-1]))
