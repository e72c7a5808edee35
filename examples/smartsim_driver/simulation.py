"""An ensemble member: reads its configured inputs and publishes a temperature series.

Written for SmartRedis; the import is the only change (``from smartredis import Client``).
With key prefixing on (ensemble members have it), the tensor is stored as
``<member name>.temperature``.
"""

import numpy as np

from sscontainer import Client

values = {}
with open("params.txt", encoding="utf-8") as handle:
    for line in handle:
        name, _, value = line.partition("=")
        values[name.strip()] = float(value)

steps = int(values["STEPS"])
temperature = values["THERMO"] * np.arange(1, steps + 1, dtype=np.float32)
client = Client(cluster=False)
client.put_tensor("temperature", temperature)
print(f"THERMO={values['THERMO']:g} published {steps} steps")
