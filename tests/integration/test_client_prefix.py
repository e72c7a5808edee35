"""The guide's producer/consumer example across processes, each entity with the environment
an experiment gives it, and each using either SmartRedis 0.6.1 or sscontainer.client."""

from __future__ import annotations

import textwrap

import pytest

import sscontainer.client as ours
from sscontainer.db.local import LocalDatabase
from tests.client_diff import require_smartredis
from tests.integration.client_pairs import require_redisai
from tests.integration.db_fixtures import cluster_db, run_python, standalone_db

__all__ = ["cluster_db", "standalone_db"]

PRODUCER = textwrap.dedent("""
    from {module} import Client
    from {module} import *
    import numpy as np

    client = Client(cluster={cluster})
    array = np.array({values})
    client.put_tensor("tensor", array)
""")

CONSUMER = textwrap.dedent("""
    from {module} import Client
    from {module} import *

    client = Client(cluster={cluster})
    client.set_data_source("producer_1")
    val1 = client.get_tensor("tensor")
    client.set_data_source("producer_2")
    val2 = client.get_tensor("tensor")
    client.log_data(LLInfo, f"1: {{val1}}")
    client.log_data(LLInfo, f"2: {{val2}}")
""")

MODULES = {"smartredis": "smartredis", "ours": "sscontainer.client"}


@pytest.fixture(params=["standalone", "cluster"])
def db(request: pytest.FixtureRequest) -> LocalDatabase:
    database: LocalDatabase = request.getfixturevalue(f"{request.param}_db")
    with ours.direct.connect(database.ssdb, database.is_cluster) as admin:
        require_redisai(admin)
        admin.flush_db([str(a) for a in database.addresses])
    return database


def _run(code: str, db: LocalDatabase, module: str, **env: str) -> str:
    if module == "smartredis":
        require_smartredis()
    source = code.format(cluster=db.is_cluster, module=MODULES[module])
    result = run_python(source, {**db.env, "SR_LOG_LEVEL": "info", "SR_LOG_FILE": "", **env})
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize(("producers", "consumer"), [
    ("ours", "smartredis"), ("smartredis", "ours"), ("ours", "ours"),
])
def test_two_producers_and_a_consumer(db: LocalDatabase, producers: str, consumer: str) -> None:
    _run(PRODUCER.replace("{values}", "[5, 6, 7, 8]"), db, producers, SSKEYOUT="producer_1")
    _run(PRODUCER.replace("{values}", "[1, 2, 3, 4]"), db, producers, SSKEYOUT="producer_2")
    with ours.direct.connect(db.ssdb, db.is_cluster) as admin:
        assert admin.key_exists("producer_1.tensor") and admin.key_exists("producer_2.tensor")
        assert not admin.key_exists("tensor")
    # SmartRedis only reads sources named in SSKEYIN; ours also without (DESIGN.md)
    env = {"SSKEYIN": "producer_1,producer_2"} if consumer == "smartredis" else {}
    out = _run(CONSUMER, db, consumer, **env)
    assert "1: [5 6 7 8]" in out and "2: [1 2 3 4]" in out
