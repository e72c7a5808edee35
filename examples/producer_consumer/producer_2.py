"""Producer 2 (the guide's example): puts `tensor`, stored as `producer_2.tensor`."""

import numpy as np

from sscontainer import Client
from sscontainer.client import *  # noqa: F403  (LLInfo & co., as `from smartredis import *`)

# Initialize a Client
client = Client(cluster=False)

# Create NumPy array
array = np.array([1, 2, 3, 4])
# Use the client to place the tensor in the single-shard database
client.put_tensor("tensor", array)
