"""Shard config files: content, validation, the launch token."""

from __future__ import annotations

import os
import stat

import pytest

from sscontainer.db.address import ServerAddress
from sscontainer.db.cluster import cluster_create_argv, cluster_create_env, validate_db_nodes
from sscontainer.db.server_config import ShardConfig, render_config, server_argv, write_config
from sscontainer.errors import SSConfigError


def test_standalone_tcp_config(tmp_path: os.PathLike[str]) -> None:
    cfg = ShardConfig(port=7001, data_dir=str(tmp_path), extra={"maxclients": "100"})
    text = render_config(cfg)
    lines = text.splitlines()
    assert "port 7001" in lines
    assert "bind 127.0.0.1" in lines
    assert 'save ""' in lines
    assert "maxclients 100" in lines
    assert "cluster-enabled yes" not in lines
    assert not any(line.startswith("unixsocket") for line in lines)
    assert cfg.address == ServerAddress(host="127.0.0.1", port=7001)


def test_unix_socket_config_disables_tcp() -> None:
    cfg = ShardConfig(port=0, unix_socket="/tmp/x/db.sock", socket_permissions=0o750)
    lines = render_config(cfg).splitlines()
    assert "port 0" in lines
    assert 'unixsocket "/tmp/x/db.sock"' in lines
    assert "unixsocketperm 750" in lines
    assert cfg.address == ServerAddress(unix_socket="/tmp/x/db.sock")


def test_cluster_config_with_password() -> None:
    cfg = ShardConfig(port=7002, cluster=True, cluster_port=17999, password='p"w\\d',
                      bind=("10.0.0.5",))
    lines = render_config(cfg).splitlines()
    assert "cluster-enabled yes" in lines
    assert "cluster-port 17999" in lines
    assert "cluster-config-file nodes-7002.conf" in lines
    assert 'requirepass "p\\"w\\\\d"' in lines
    assert 'masterauth "p\\"w\\\\d"' in lines


@pytest.mark.parametrize("bind", [("0.0.0.0",), ("10.1.2.3",), ("127.0.0.1", "192.168.1.4")])
def test_non_loopback_without_a_password_is_allowed(bind: tuple[str, ...]) -> None:
    # SmartRedis cannot authenticate: the password rule lives in db/access.py, not here
    lines = render_config(ShardConfig(port=7003, bind=bind)).splitlines()
    assert "bind " + " ".join(bind) in lines
    assert not any(line.startswith("requirepass") for line in lines)
    assert "protected-mode no" in lines  # else the server itself refuses remote clients
    assert "protected-mode no" not in render_config(ShardConfig(port=7003, password="pw"))


def test_launch_token_is_rendered_and_checked() -> None:
    lines = render_config(ShardConfig(port=7004, token="ab12-0")).splitlines()
    assert "syslog-ident sscontainer-ab12-0" in lines
    with pytest.raises(SSConfigError, match="launch token"):
        ShardConfig(port=7004, token="a b")
    with pytest.raises(SSConfigError, match="managed by sscontainer"):
        ShardConfig(port=7004, extra={"syslog-ident": "x"})


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"port": 0}, "unix_socket path is required"),
        ({"port": 70000}, "0-65535"),
        ({"port": 0, "unix_socket": "rel.sock"}, "absolute path"),
        ({"port": 0, "unix_socket": "/" + "x" * 120}, "too long"),
        ({"socket_permissions": 755}, "0o prefix"),
        ({"cluster": True, "port": 0, "unix_socket": "/tmp/a.sock"}, "cluster shard needs"),
        ({"loglevel": "loud"}, "loglevel"),
        ({"extra": {"port": "1"}}, "managed by sscontainer"),
        ({"extra": {"Max Clients": "1"}}, "not a config directive"),
        ({"extra": {"maxclients": "1\nrequirepass x"}}, "may not contain"),
        ({"extra": {"maxclients": 5}}, "must be a string"),
        ({"password": "bad\npw"}, "printable"),
    ],
)
def test_invalid_shard_configs(kwargs: dict[str, object], fragment: str) -> None:
    with pytest.raises(SSConfigError, match=fragment):
        ShardConfig(**kwargs)  # type: ignore[arg-type]


def test_config_file_is_private_and_argv_has_no_secret(tmp_path: os.PathLike[str]) -> None:
    cfg = ShardConfig(port=7004, password="secret", data_dir=str(tmp_path))
    path = write_config(cfg, os.path.join(tmp_path, "s.conf"))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    argv = server_argv("/usr/bin/redis-server", path)
    assert argv == ["/usr/bin/redis-server", os.path.abspath(path)]
    assert not any("secret" in arg for arg in argv)


def test_db_nodes_rules() -> None:
    assert validate_db_nodes(1) == 1
    assert validate_db_nodes(3) == 3
    with pytest.raises(SSConfigError, match="at least 3 master"):
        validate_db_nodes(2)
    for bad in (0, -1, True, 1.5, "3"):
        with pytest.raises(SSConfigError, match="positive integer"):
            validate_db_nodes(bad)


def test_cluster_create_argv() -> None:
    addresses = [ServerAddress("10.0.0.1", 6379 + i) for i in range(3)]
    argv = cluster_create_argv("/bin/redis-cli", addresses)
    assert argv == [
        "/bin/redis-cli", "--cluster", "create", "10.0.0.1:6379", "10.0.0.1:6380",
        "10.0.0.1:6381", "--cluster-replicas", "0", "--cluster-yes",
    ]
    assert cluster_create_env("pw") == {"REDISCLI_AUTH": "pw", "VALKEYCLI_AUTH": "pw"}
    assert cluster_create_env(None) == {}
    with pytest.raises(SSConfigError, match="at least 3"):
        cluster_create_argv("cli", addresses[:2])
    with pytest.raises(SSConfigError, match="TCP"):
        cluster_create_argv("cli", [*addresses[:2], ServerAddress(unix_socket="/s")])
