"""The guide's producer/consumer driver, with sscontainer imports: ``python experiment.py``.

Two producers with key prefixing put a tensor of the same name into a standalone
database; the consumer, started after them, reads both through set_data_source.
"""

import os
import sys

from sscontainer import Experiment
from sscontainer.log import get_logger

here = os.path.dirname(os.path.abspath(__file__))
exe_ex = sys.executable
logger = get_logger("Experiment Log")
# Initialize the Experiment
exp = Experiment(
    "producer-consumer", exp_path=os.path.join(here, "runs", "producer-consumer-py"),
    launcher="local",
)

# Initialize a single sharded database (loopback here; on a multi-node Slurm cluster
# interface="auto" binds each shard's node address, or name the fabric, e.g. "ib0")
single_shard_db = exp.create_database(port=6379, db_nodes=1, interface="lo")
exp.generate(single_shard_db, overwrite=True)
exp.start(single_shard_db)

models = []
for name in ("producer_1", "producer_2", "consumer"):
    settings = exp.create_run_settings(exe=exe_ex, exe_args=os.path.join(here, f"{name}.py"))
    settings.set_nodes(1)
    settings.set_tasks_per_node(1)
    models.append(exp.create_model(name, settings))
producer_1, producer_2, consumer = models
producer_1.enable_key_prefixing()
producer_2.enable_key_prefixing()
consumer.disable_key_prefixing()
exp.generate(producer_1, producer_2, consumer, overwrite=True)

try:
    # the producers first: the consumer reads what they wrote
    exp.start(producer_1, producer_2, block=True)
    exp.start(consumer, block=True, summary=True)
    with open(os.path.join(consumer.path, "consumer.out"), encoding="utf-8") as handle:
        print(handle.read(), end="")
finally:
    # To end, tear down the database
    exp.stop(single_shard_db)
logger.info(exp.summary())
