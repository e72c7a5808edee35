"""Addresses and SSDB values."""

from __future__ import annotations

import socket

import pytest

from sscontainer.db.address import (
    ServerAddress,
    find_free_port,
    format_ssdb,
    interface_address,
    is_loopback,
    parse_address,
    parse_ssdb,
)
from sscontainer.errors import SSConfigError


def test_parse_tcp_unix_and_ipv6() -> None:
    assert parse_address("127.0.0.1:6379") == ServerAddress(host="127.0.0.1", port=6379)
    assert parse_address(" node-1:7000 ") == ServerAddress(host="node-1", port=7000)
    assert parse_address("[::1]:6380") == ServerAddress(host="::1", port=6380)
    assert parse_address("unix:///tmp/db.sock") == ServerAddress(unix_socket="/tmp/db.sock")


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("localhost", "has no port"),
        (":6379", "has no port"),
        ("host:abc", "not a number"),
        ("host:70000", "not a number in 1-65535"),
        ("unix://relative.sock", "absolute path"),
        ("[::1]6379", r"\[ipv6\]:port"),
        ("", "empty"),
    ],
)
def test_bad_addresses_say_what_is_expected(text: str, fragment: str) -> None:
    with pytest.raises(SSConfigError, match=fragment):
        parse_address(text)


def test_ssdb_round_trip() -> None:
    text = "10.0.0.1:6379,10.0.0.2:6379,[::1]:7000"
    addresses = parse_ssdb(text)
    assert [a.port for a in addresses] == [6379, 6379, 7000]
    assert format_ssdb(addresses) == text
    assert format_ssdb([ServerAddress(unix_socket="/s/db.sock")]) == "unix:///s/db.sock"
    with pytest.raises(SSConfigError, match="SSDB is empty"):
        parse_ssdb(" , ")


def test_loopback_detection() -> None:
    for host in ("lo", "localhost", "127.0.0.1", "127.1.2.3", "::1"):
        assert is_loopback(host)
    for host in ("0.0.0.0", "10.1.2.3", "::", "ib0", "example.org"):
        assert not is_loopback(host)


def test_interface_address() -> None:
    assert interface_address("lo") == "127.0.0.1"
    assert interface_address("10.1.2.3") == "10.1.2.3"
    with pytest.raises(SSConfigError, match="interfaces on this host"):
        interface_address("nosuchif0")


def test_free_port_is_bindable() -> None:
    port = find_free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
    assert find_free_port(avoid=frozenset({port})) != port


def test_semicolons_from_old_smartredis_docs() -> None:
    assert parse_ssdb("127.0.0.1:6379;") == [ServerAddress("127.0.0.1", 6379)]
    assert len(parse_ssdb("a:1;b:2;c:3")) == 3
