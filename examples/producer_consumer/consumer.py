"""Consumer (the guide's example): reads both producers' `tensor` through set_data_source."""

from sscontainer import Client
from sscontainer.client import *  # noqa: F403  (LLInfo & co., as `from smartredis import *`)

# Initialize a Client
client = Client(cluster=False)

client.set_data_source("producer_1")
# Searching for key name: producer_1.tensor
val1 = client.get_tensor("tensor")
client.set_data_source("producer_2")
# Searching for key name: producer_2.tensor
val2 = client.get_tensor("tensor")

client.log_data(LLInfo, f"1: {val1}")  # noqa: F405
client.log_data(LLInfo, f"2: {val2}")  # noqa: F405
