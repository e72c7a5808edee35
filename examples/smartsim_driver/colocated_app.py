"""A colocated application: its own database beside it, reached through a Unix socket."""

import os

import numpy as np

from sscontainer import Client

client = Client(cluster=False)
client.put_tensor("field", np.arange(10, dtype=np.float64))
total = float(client.get_tensor("field").sum())
print(f"colocated sum: {total:g} via {os.environ['SSDB'].split('://')[0]}")
