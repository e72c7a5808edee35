"""Fixtures for the differential client tests: the real smartredis 0.6.1 Client and ours,
connected to the same real database (standalone TCP, a Unix socket, a 3-shard cluster).

    from tests.integration.client_pairs import pair, cluster_db, standalone_db, uds_db  # noqa
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

import sscontainer.client as ours
from sscontainer.db.local import LocalDatabase
from tests.client_diff import require_smartredis
from tests.conftest import require_service, scoped_environ
from tests.integration.db_fixtures import cluster_db, standalone_db, uds_db

__all__ = ["Pair", "cluster_db", "pair", "require_redisai", "standalone_db", "uds_db"]

KINDS = ["standalone", "uds", "cluster"]
CLIENT_VARIABLES = ("SSDB", "SR_DB_TYPE", "SSKEYIN", "SSKEYOUT", "SSDB_PASSWORD",
                    "SR_CONN_TIMEOUT", "SR_CMD_TIMEOUT", "SR_SOCKET_TIMEOUT", "SR_MODEL_TIMEOUT")


@dataclass
class Pair:
    """Both clients, their modules, and the database they share."""

    sr: Any  # the smartredis module
    real: Any  # smartredis.Client
    ours: ours.Client
    db: LocalDatabase
    kind: str

    def make(self, **env: str) -> tuple[Any, ours.Client]:
        """Two more clients created with ``env`` added (prefix variables...)."""
        with scoped_environ(env):
            return self.sr.Client(None, "real"), ours.Client(None, "ours")

    @property
    def nodes(self) -> list[str]:
        return [str(a) for a in self.db.addresses]


def require_redisai(client: ours.Client) -> None:
    """Fail in CI / skip elsewhere when the database lacks the RedisAI commands."""
    try:
        client.set_model_chunk_size(client._chunk_size())  # noqa: SLF001 - probes AI.CONFIG
        available = True
    except ours.error.RedisRuntimeError as exc:
        if "unknown command" not in str(exc).lower():
            raise
        available = False
    require_service(available, "the RedisAI-compatible module in the database",
                    "build sscontainer with its module (pip install -e .)")


@pytest.fixture(params=KINDS)
def pair(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pair]:
    sr = require_smartredis()
    kind = request.param
    db: LocalDatabase = request.getfixturevalue(f"{kind}_db")
    for name in CLIENT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SR_LOG_LEVEL", "quiet")
    for key, value in db.env.items():
        monkeypatch.setenv(key, value)
    mine = ours.Client(None, "ours")
    mine.flush_db([str(a) for a in db.addresses])
    real = sr.Client(None, "real")
    try:
        yield Pair(sr, real, mine, db, kind)
    finally:
        mine.close()
