"""A SmartSim 0.8 driver, run by sscontainer after changing only its imports.

Written against SmartSim 0.8.0's public API; the imports were::

    from smartsim import Experiment
    from smartsim.log import get_logger
    from smartsim.status import SmartSimStatus

and the applications' ``from smartredis import Client``. Everything else is as a
SmartSim user writes it: a standalone database, an ensemble configured from a
tagged input file, an analysis model that reads the members' prefixed keys and
runs a TorchScript loaded with ``add_script``, and a colocated model.

    python driver.py [local|slurm]

``DRIVER_DB_PORT`` (default 6780), ``DRIVER_EXP_DIR`` and ``DRIVER_ML=0`` (no
TorchScript) adapt it to a test machine.
"""

import os
import sys

from sscontainer import Experiment
from sscontainer.log import get_logger
from sscontainer.status import SmartSimStatus

here = os.path.dirname(os.path.abspath(__file__))
launcher = sys.argv[1] if len(sys.argv) > 1 else "local"
exp_dir = os.environ.get("DRIVER_EXP_DIR", os.path.join(here, "runs"))
os.makedirs(exp_dir, exist_ok=True)  # SmartSim's exp_path must exist

logger = get_logger("smartsim-driver")
exp = Experiment("smartsim-driver", exp_path=exp_dir, launcher=launcher)

# a standalone database, started first
db = exp.create_database(port=int(os.environ.get("DRIVER_DB_PORT", "6780")), interface="lo")
exp.generate(db, overwrite=True)

# three simulations, one per (THERMO, STEPS) pair, each with its own params.txt
simulation = os.path.join(here, "simulation.py")
sim_settings = exp.create_run_settings(exe=sys.executable, exe_args=simulation)
sim_settings.set_tasks(1)
ensemble = exp.create_ensemble(
    "sim",
    params={"THERMO": [10, 20, 40], "STEPS": [4, 4, 4]},
    run_settings=sim_settings,
    perm_strategy="step",
)
ensemble.attach_generator_files(to_configure=[os.path.join(here, "params.txt")])
exp.generate(ensemble, overwrite=True)

# the analysis reads every member's keys, and normalises them with a TorchScript
analysis_script = os.path.join(here, "analysis.py")
analysis_settings = exp.create_run_settings(exe=sys.executable, exe_args=analysis_script)
analysis = exp.create_model("analysis", analysis_settings)
for member in ensemble:
    analysis.register_incoming_entity(member)
if os.environ.get("DRIVER_ML", "1") == "1":
    analysis.add_script("normalise", script_path=os.path.join(here, "normalise.py"), device="CPU")
exp.generate(analysis, overwrite=True)

# a model with its own database on the same node
colo_app = os.path.join(here, "colocated_app.py")
colo_settings = exp.create_run_settings(exe=sys.executable, exe_args=colo_app)
colocated = exp.create_model("colocated", colo_settings)
colocated.colocate_db_uds(db_cpus=1)
exp.generate(colocated, overwrite=True)

exp.preview(db, ensemble, analysis, colocated)

exp.start(db)
try:
    exp.start(ensemble, colocated, block=False, summary=True)
    exp.poll(interval=2)  # returns when the models end; the database keeps running
    statuses = exp.get_status(ensemble, colocated)
    if not all(status == SmartSimStatus.STATUS_COMPLETED for status in statuses):
        raise SystemExit(f"simulations did not all complete: {statuses}")
    exp.start(analysis, block=True)
    if exp.get_status(analysis)[0] != SmartSimStatus.STATUS_COMPLETED:
        raise SystemExit("analysis failed")
finally:
    exp.stop(db)

for model in (*ensemble, colocated, analysis):
    with open(os.path.join(model.path, f"{model.name}.out"), encoding="utf-8") as handle:
        print(f"{model.name}: {handle.read().strip()}")
logger.info(exp.summary())
