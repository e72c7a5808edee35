"""ColocatedConfig: validation, JSON round trip, kwargs splitting."""

from __future__ import annotations

import json
import os
import socket

import pytest

from sscontainer.db.colocated import exit_code, shard_config
from sscontainer.db.colocated_config import ColocatedConfig, split_db_kwargs, supervisor_argv
from sscontainer.errors import InvalidNameError, SSConfigError


def test_json_round_trip(tmp_path: os.PathLike[str]) -> None:
    cfg = ColocatedConfig(
        transport="tcp", port=6780, ifname="lo", db_cpus=2, custom_pinning="0,2-3",
        debug=True, db_identifier="colo_1", server_conf={"maxclients": "100"},
        ml_threads={"threads_per_queue": 2}, assets_file="/run/assets.json",
        server_binary="/usr/bin/redis-server", log_path="/run/db.log",
    )
    assert cfg.custom_pinning == [0, 2, 3]
    again = ColocatedConfig.from_json(cfg.to_json())
    assert again == cfg
    path = cfg.save(os.path.join(tmp_path, "c.json"))
    assert ColocatedConfig.load(path) == cfg
    assert json.loads(cfg.to_json())["socket_permissions"] == 0o755


def test_addresses_and_lock_paths() -> None:
    uds = ColocatedConfig(unix_socket="/shared/db.sock")
    assert uds.ssdb == "unix:///shared/db.sock"
    assert uds.lock_path == "/shared/db.sock.lock"
    tcp = ColocatedConfig(transport="tcp", port=6780)
    assert tcp.ssdb == "127.0.0.1:6780"
    assert tcp.lock_path.endswith(f"sscontainer-colo-{socket.gethostname()}-db-6780.lock")


def test_shard_config_for_each_transport() -> None:
    uds = shard_config(ColocatedConfig(unix_socket="/s/db.sock", socket_permissions=0o700), "/d")
    assert (uds.port, uds.unix_socket, uds.socket_permissions) == (0, "/s/db.sock", 0o700)
    tcp = shard_config(ColocatedConfig(transport="tcp", port=7000, debug=True), "/d")
    assert (tcp.port, tcp.bind, tcp.unix_socket, tcp.loglevel) == (
        7000, ("127.0.0.1",), None, "verbose",
    )


def test_split_kwargs() -> None:
    server, ml = split_db_kwargs({
        "maxclients": 100000, "threads_per_queue": 1, "inter_op_threads": 2,
        "intra_op_threads": 3, "maxmemory_policy": "allkeys-lru", "appendonly": False,
    })
    assert server == {"maxclients": "100000", "maxmemory-policy": "allkeys-lru",
                      "appendonly": "no"}
    assert ml == {"threads_per_queue": 1, "inter_op_threads": 2, "intra_op_threads": 3}


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"transport": "ib"}, "'uds' or 'tcp'"),
        ({"transport": "tcp", "port": 0}, "1-65535"),
        ({"transport": "tcp", "ifname": "eth0"}, "loopback"),
        ({"unix_socket": "db.sock"}, "absolute path"),
        ({"socket_permissions": 755}, "did you mean 0o755"),
        ({"db_cpus": 0}, "db_cpus"),
        ({"custom_pinning": ["x"]}, "not a CPU number"),
        ({"server_conf": {"port": "1"}}, "managed by sscontainer"),
        ({"ml_threads": {"threads": 1}}, "unknown setting"),
        ({"ml_threads": {"threads_per_queue": 0}}, "positive integer"),
        ({"debug": "yes"}, "True or False"),
        ({"assets_file": ""}, "non-empty path"),
    ],
)
def test_validation(kwargs: dict[str, object], fragment: str) -> None:
    with pytest.raises(SSConfigError, match=fragment):
        ColocatedConfig(**kwargs)  # type: ignore[arg-type]


def test_bad_identifier_and_json() -> None:
    with pytest.raises(InvalidNameError):
        ColocatedConfig(db_identifier="../x")
    with pytest.raises(SSConfigError, match="not valid JSON"):
        ColocatedConfig.from_json("{")
    with pytest.raises(SSConfigError, match="unknown field"):
        ColocatedConfig.from_json('{"transport": "uds", "colour": "red"}')


def test_exit_code_mapping() -> None:
    assert exit_code(0) == 0
    assert exit_code(3) == 3
    assert exit_code(-15) == 143
    assert exit_code(-9) == 137


def test_supervisor_argv() -> None:
    argv = supervisor_argv("/run/colo.json", ["python", "app.py", "--steps", "3"], "/usr/bin/python3")
    assert argv == ["/usr/bin/python3", "-m", "sscontainer.db.colocated", "--config",
                    "/run/colo.json", "--", "python", "app.py", "--steps", "3"]
    with pytest.raises(SSConfigError, match="application command"):
        supervisor_argv("/run/colo.json", [])
