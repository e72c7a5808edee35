"""Reads every member's temperature (its incoming entities), stacks them and normalises
them with the TorchScript the driver loaded into the database, when it did so.

Written for SmartRedis; the import is the only change.
"""

import os

import numpy as np

from sscontainer import Client

client = Client(cluster=False)
members = os.environ["SSKEYIN"].split(",")
series = []
for member in members:
    client.set_data_source(member)  # reads <member>.temperature
    series.append(client.get_tensor("temperature"))
stacked = np.stack(series)
print("maxima:", [float(s.max()) for s in series])
client.use_tensor_ensemble_prefix(False)  # from here on: this model's own, unprefixed keys
if client.model_exists("normalise"):  # the driver's add_script, stored before this started
    client.put_tensor("stacked", stacked)
    client.run_script("normalise", "normalise", ["stacked"], ["normalised"])
    result = client.get_tensor("normalised")
    print("normalised max per member:", [round(float(r.max()), 4) for r in result])
