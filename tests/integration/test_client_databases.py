"""Several databases from one application: ``ConfigOptions.create_from_environment(id)`` reads
``SSDB_<id>``, ``SR_DB_TYPE_<id>``, ``SSKEYOUT_<id>`` ... and, for sscontainer's client, the
password ``SSDB_PASSWORD_<id>`` (what an Orchestrator with ``db_identifier=<id>`` hands out)."""

from __future__ import annotations

import numpy as np
import pytest

import sscontainer.client as ours
from sscontainer.db.local import LocalDatabase
from tests.client_diff import require_smartredis
from tests.integration.client_pairs import require_redisai
from tests.integration.db_fixtures import require_server


def test_two_named_databases_one_with_a_password(monkeypatch: pytest.MonkeyPatch) -> None:
    require_server()
    sr = require_smartredis()
    with LocalDatabase() as open_db, LocalDatabase(password="pw 2", db_nodes=3) as locked:
        for name in ("SSDB", "SR_DB_TYPE", "SSDB_PASSWORD", "SSKEYIN", "SSKEYOUT"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("SR_LOG_LEVEL", "quiet")
        for suffix, db in (("sim", open_db), ("ml", locked)):
            for key, value in db.env.items():
                monkeypatch.setenv(f"{key}_{suffix}", value)
        monkeypatch.setenv("SSKEYOUT_sim", "producer")
        monkeypatch.setenv("SR_CONN_TIMEOUT_ml", "1")  # SmartRedis retries a NOAUTH this long
        monkeypatch.setenv("SR_CONN_INTERVAL_ml", "100")
        sim = ours.Client(ours.ConfigOptions.create_from_environment("sim"), "sim")
        ml = ours.Client(ours.ConfigOptions.create_from_environment("ml"), "ml")
        require_redisai(sim)
        assert sim.is_cluster is False and ml.is_cluster is True
        sim.put_tensor("t", np.arange(3))
        ml.put_tensor("t", np.arange(4))
        real = sr.Client(sr.ConfigOptions.create_from_environment("sim"), "real-sim")
        real.use_tensor_ensemble_prefix(False)
        assert real.get_tensor("producer.t").tolist() == [0, 1, 2]  # written as producer.t
        assert ml.get_tensor("t").tolist() == [0, 1, 2, 3]
        with pytest.raises(sr.error.RedisConnectionError, match="NOAUTH"):
            sr.Client(sr.ConfigOptions.create_from_environment("ml"), "real-ml")
        monkeypatch.delenv("SSDB_PASSWORD_ml")
        with pytest.raises(ours.error.RedisConnectionError, match="NOAUTH|AUTH"):
            ours.Client(ours.ConfigOptions.create_from_environment("ml"), "no-password")
