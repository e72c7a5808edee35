"""Constructing a Client the ways SmartRedis 0.6.1 allows, when it cannot connect or is
called wrongly: the real client and ours raise the same classes (no database needed)."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import pytest

import sscontainer.client as ours
from tests.client_diff import require_smartredis, same


@pytest.fixture()
def sr(monkeypatch: pytest.MonkeyPatch) -> Any:
    module = require_smartredis()
    for name in ("SSDB", "SR_DB_TYPE", "SSKEYIN", "SSKEYOUT", "SR_CONN_TIMEOUT",
                 "SR_CMD_TIMEOUT", "SR_SOCKET_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SR_LOG_LEVEL", "quiet")
    monkeypatch.setenv("SR_CONN_TIMEOUT", "1")  # SmartRedis retries for this long
    monkeypatch.setenv("SR_CONN_INTERVAL", "200")
    return module


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def both(sr: Any, make: Callable[[Any], Any]) -> Any:
    return same(lambda: make(sr), lambda: make(ours))


WRONG_CALLS: list[tuple[str, Callable[[Any], Any]]] = [
    ("int first", lambda m: m.Client(1)),
    ("str first", lambda m: m.Client("x")),
    ("unknown keyword", lambda m: m.Client(False, foo=1)),
    ("cluster a string", lambda m: m.Client(cluster="yes", address="127.0.0.1:1")),
    ("logger name an int", lambda m: m.Client(None, 5)),
    ("too many", lambda m: m.Client(None, "a", "b")),
]


@pytest.mark.parametrize("case", WRONG_CALLS, ids=[c[0] for c in WRONG_CALLS])
def test_wrong_arguments(sr: Any, case: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSDB", f"127.0.0.1:{closed_port()}")
    assert isinstance(both(sr, case[1]), TypeError)


def test_no_ssdb(sr: Any) -> None:
    both(sr, lambda m: m.Client())
    both(sr, lambda m: m.Client(False))
    both(sr, lambda m: m.Client(config_options=m.ConfigOptions.create_from_environment("X")))


@pytest.mark.parametrize("ssdb", ["127.0.0.1:1;", "nohost", "a:1,,b:2", "[::1]:6379"])
def test_bad_ssdb(sr: Any, ssdb: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSDB", ssdb)
    monkeypatch.setenv("SR_DB_TYPE", "Standalone")
    assert isinstance(both(sr, lambda m: m.Client()), ours.error.RedisConnectionError)


@pytest.mark.parametrize(("variable", "value"), [
    ("SR_CONN_TIMEOUT", "0"), ("SR_CMD_TIMEOUT", "abc"), ("SR_SOCKET_TIMEOUT", "-5"),
    ("SR_CONN_INTERVAL", "0"), ("SR_CMD_INTERVAL", "1x"), ("SR_CMD_TIMEOUT", "99999999999"),
])
def test_bad_timing_variables(sr: Any, variable: str, value: str,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSDB", f"127.0.0.1:{closed_port()}")
    monkeypatch.setenv("SR_DB_TYPE", "Standalone")
    monkeypatch.setenv(variable, value)
    assert isinstance(both(sr, lambda m: m.Client()), ValueError)


@pytest.mark.parametrize("db_type", ["Standalone", "Clustered"])
def test_nothing_listening(sr: Any, db_type: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSDB", f"127.0.0.1:{closed_port()}")
    monkeypatch.setenv("SR_DB_TYPE", db_type)
    assert isinstance(both(sr, lambda m: m.Client(None, "x")), ours.error.RedisConnectionError)


def test_legacy_form_sets_ssdb(sr: Any) -> None:
    port = closed_port()
    both(sr, lambda m: m.Client(False, f"127.0.0.1:{port}"))
    import os

    assert os.environ["SSDB"] == f"127.0.0.1:{port}"  # as SmartRedis: the address is kept
    both(sr, lambda m: m.Client(True, "unix:///tmp/nothing.sock"))
    both(sr, lambda m: m.Client(False, "unix:///tmp/nothing-here.sock"))


def test_unmanaged_config_options(sr: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSDB", f"127.0.0.1:{closed_port()}")
    both(sr, lambda m: m.Client(m.ConfigOptions()))
