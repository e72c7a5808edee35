"""Where the client connects: SSDB, SR_DB_TYPE, SSDB_PASSWORD and explicit arguments."""

from __future__ import annotations

import pytest

from sscontainer.client.connection import resolve_target
from sscontainer.db.address import ServerAddress
from sscontainer.errors import ClientError


def test_ssdb_and_db_type_from_the_environment() -> None:
    target = resolve_target(None, None, None, {"SSDB": "127.0.0.1:6379"})
    assert target.addresses == (ServerAddress("127.0.0.1", 6379),)
    assert not target.cluster and target.password is None
    env = {"SSDB": "a:1,b:2,c:3", "SR_DB_TYPE": "Clustered", "SSDB_PASSWORD": "pw"}
    target = resolve_target(None, None, None, env)
    assert target.cluster and target.password == "pw" and target.ssdb == "a:1,b:2,c:3"
    assert resolve_target(None, None, None, {"SSDB": "a:1,b:2,c:3"}).cluster
    uds = resolve_target(None, None, None, {"SSDB": "unix:///s/db.sock", "SR_DB_TYPE": "Standalone"})
    assert uds.addresses == (ServerAddress(unix_socket="/s/db.sock"),)


def test_explicit_arguments_win() -> None:
    env = {"SSDB": "x:1", "SR_DB_TYPE": "Clustered", "SSDB_PASSWORD": "env"}
    target = resolve_target("y:2", False, "arg", env)
    assert target.addresses == (ServerAddress("y", 2),)
    assert not target.cluster and target.password == "arg"


@pytest.mark.parametrize(
    "address, cluster, env, fragment",
    [
        (None, None, {}, "set SSDB"),
        ("nohost", None, {}, "bad database address"),
        ("a:1,b:2", False, {}, "standalone connection"),
        ("unix:///s", True, {}, "Unix socket"),
        (None, None, {"SSDB": "a:1", "SR_DB_TYPE": "Sharded"}, "SR_DB_TYPE"),
    ],
)
def test_errors(address: str | None, cluster: bool | None, env: dict[str, str],
                fragment: str) -> None:
    with pytest.raises(ClientError, match=fragment):
        resolve_target(address, cluster, None, env)
