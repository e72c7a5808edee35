"""The guide's THERMO example through the Python API: ``python experiment.py``."""

import os

from sscontainer import Experiment

here = os.path.dirname(os.path.abspath(__file__))
exp = Experiment("thermo-py", exp_path=os.path.join(here, "runs", "thermo-py"), launcher="local")
settings = exp.create_run_settings(exe="python3", exe_args="simulation.py")
model = exp.create_model("model", settings, params={"THERMO": 1, "STEPS": 10})
model.attach_generator_files(
    to_copy=[os.path.join(here, "simulation.py")],
    to_configure=[os.path.join(here, "params_inputs.txt")],
)
exp.generate(model, overwrite=True)
exp.start(model, block=True, summary=True)
with open(os.path.join(model.path, "params_inputs.txt"), encoding="utf-8") as handle:
    print(handle.read())
