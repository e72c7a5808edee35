"""Key prefixing across processes, with the environment an experiment gives each entity.

The producers and the consumer are the guide's example, with sscontainer imports.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from sscontainer.client import Client
from sscontainer.db.local import LocalDatabase
from tests.integration.db_fixtures import cluster_db, run_python, standalone_db

__all__ = ["cluster_db", "standalone_db"]

PRODUCER = textwrap.dedent("""
    from sscontainer.client import Client
    from sscontainer.client import *
    import numpy as np

    client = Client(cluster={cluster})
    array = np.array({values})
    client.put_tensor("tensor", array)
    # a prefixed model reads back what it wrote
    assert (client.get_tensor("tensor") == array).all()
""")

CONSUMER = textwrap.dedent("""
    from sscontainer.client import Client
    from sscontainer.client import *
    import numpy as np

    client = Client(cluster={cluster})
    client.set_data_source("producer_1")
    val1 = client.get_tensor("tensor")
    client.set_data_source("producer_2")
    val2 = client.get_tensor("tensor")
    client.log_data(LLInfo, f"1: {{val1}}")
    client.log_data(LLInfo, f"2: {{val2}}")
""")


@pytest.fixture(params=["standalone", "cluster"])
def db(request: pytest.FixtureRequest) -> LocalDatabase:
    database: LocalDatabase = request.getfixturevalue(f"{request.param}_db")
    with Client(address=database.ssdb, cluster=database.is_cluster) as admin:
        admin.flush_db()
    return database


def _run(code: str, db: LocalDatabase, **env: str) -> str:
    result = run_python(code.format(cluster=db.is_cluster), {**db.env, **env})
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_two_producers_and_a_consumer_without_sskeyin(db: LocalDatabase) -> None:
    _run(PRODUCER.replace("{values}", "[5, 6, 7, 8]"), db, SSKEYOUT="producer_1")
    _run(PRODUCER.replace("{values}", "[1, 2, 3, 4]"), db, SSKEYOUT="producer_2")
    with Client(address=db.ssdb, cluster=db.is_cluster) as admin:
        assert admin.key_exists("producer_1.tensor")
        assert admin.key_exists("producer_2.tensor")
        assert not admin.key_exists("tensor")
    out = _run(CONSUMER, db)  # consumer: prefixing disabled, no SSKEYIN
    assert "1: [5 6 7 8]" in out
    assert "2: [1 2 3 4]" in out


def test_consumer_with_sskeyin_reads_the_first_source_by_default(db: LocalDatabase) -> None:
    _run(PRODUCER.replace("{values}", "[9, 9]"), db, SSKEYOUT="producer_1")
    _run(PRODUCER.replace("{values}", "[7]"), db, SSKEYOUT="producer_2")
    code = textwrap.dedent("""
        from sscontainer.client import Client
        client = Client(cluster={cluster})
        print("default", client.get_tensor("tensor").tolist())
        client.set_data_source("producer_2")
        print("second", client.get_tensor("tensor").tolist())
        client.put_tensor("result", client.get_tensor("tensor") * 2)
    """)
    out = _run(code, db, SSKEYIN="producer_1,producer_2", SSKEYOUT="consumer")
    assert "default [9, 9]" in out
    assert "second [7]" in out
    with Client(address=db.ssdb, cluster=db.is_cluster) as admin:
        admin.set_data_source("consumer")
        assert admin.get_tensor("result").tolist() == [14]


def test_prefixing_can_be_switched_off_and_lists_are_prefixed(db: LocalDatabase) -> None:
    code = textwrap.dedent("""
        import numpy as np
        from sscontainer.client import Client, Dataset
        client = Client(cluster={cluster})
        client.use_tensor_ensemble_prefix(False)
        client.put_tensor("shared", np.array([1]))
        client.use_tensor_ensemble_prefix(True)
        client.put_tensor("mine", np.array([2]))
        ds = Dataset("ds")
        ds.add_tensor("x", np.array([3]))
        client.put_dataset(ds)
        client.append_to_list("runs", ds)
        client.use_list_ensemble_prefix(False)
        client.append_to_list("global_runs", ds)
    """)
    _run(code, db, SSKEYOUT="member_0")
    with Client(address=db.ssdb, cluster=db.is_cluster) as admin:
        assert admin.key_exists("shared")
        assert admin.key_exists("member_0.mine")
        assert admin.key_exists("member_0.{ds}.meta")
        assert admin.key_exists("member_0.runs")
        assert admin.get_list_length("global_runs") == 1
        admin.set_data_source("member_0")
        items = admin.get_datasets_from_list("runs")
        assert [d.name for d in items] == ["ds"]
        assert np.array_equal(items[0].get_tensor("x"), [3])
