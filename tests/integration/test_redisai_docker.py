"""The orchestrator image's server (Debian's redis-server 7 in a container) loads the module
from the sscontainer wheel installed in the image: tensors and models work there."""

from __future__ import annotations

import time
from pathlib import Path

import docker
import pytest
import redis

from sscontainer import Experiment
from sscontainer.db.redisai import MODULE_NAME
from tests.integration.db_fixtures import free_port_block
from tests.integration.docker_support import engine

__all__ = ["engine"]  # the fixture, used by name
pytestmark = pytest.mark.docker


def _workers(conn: redis.Redis) -> dict[str, int]:
    rows = conn.execute_command("SSC.WORKERS")  # [device, workers, queued, running] ...
    return {row[0].decode(): int(row[1]) for row in rows if int(row[1])}


def test_a_containerized_orchestrator_loads_the_module(engine: docker.DockerClient,
                                                       tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSCONTAINER_DOCKER_NETWORK", "host")  # reachable from this test
    exp = Experiment("redisai-docker", exp_path=str(tmp_path), launcher="docker")
    db = exp.create_database(port=free_port_block(1))
    exp.start(db)
    try:
        host, port = db.get_address()[0].rsplit(":", 1)
        conn = redis.Redis(host=host, port=int(port), protocol=2, socket_timeout=10)
        modules = conn.module_list()
        assert [m[b"name"] for m in modules] == [MODULE_NAME.encode()]
        assert modules[0][b"path"] == b"/opt/sscontainer/sscai.so"
        assert conn.info("server")["redis_version"].startswith("7.")
        conn.execute_command("AI.TENSORSET", "t", "INT32", 2, "VALUES", 7, 8)
        assert conn.execute_command("AI.TENSORGET", "t", "VALUES") == [7, 8]
        conn.execute_command("AI.MODELSTORE", "m", "TORCH", "CPU", "BLOB", b"bytes")
        assert conn.execute_command("AI.MODELGET", "m", "BLOB") == b"bytes"
        # an inference worker runs in the shard's container (sscontainer.db.shard)
        deadline = time.monotonic() + 60
        while not _workers(conn) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _workers(conn) == {"CPU": 1}
        conn.close()
    finally:
        exp.stop(db)
