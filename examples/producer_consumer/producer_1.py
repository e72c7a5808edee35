"""Producer 1 (the guide's example): puts `tensor`, stored as `producer_1.tensor`."""

import numpy as np

from sscontainer import Client
from sscontainer.client import *  # noqa: F403  (LLInfo & co., as `from smartredis import *`)

# Initialize a Client
client = Client(cluster=False)

# Create NumPy array
array = np.array([5, 6, 7, 8])
# Use the client to place the tensor in the single-shard database
client.put_tensor("tensor", array)
