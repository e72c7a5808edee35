"""Who may connect: no password by default, one warning when reachable beyond the host."""

from __future__ import annotations

import pytest

from sscontainer.db.access import exposed, exposure_warning, generates_password
from sscontainer.db.address import ServerAddress
from sscontainer.entities.orchestrator import Orchestrator

NODE = ServerAddress(host="10.78.0.11", port=6379)
LOOP = ServerAddress(host="127.0.0.1", port=6379)
SOCK = ServerAddress(unix_socket="/tmp/x/db.sock")


def test_only_tcp_beyond_loopback_is_exposed() -> None:
    assert exposed([LOOP, SOCK, NODE]) == [NODE]


def test_one_warning_names_every_exposed_address() -> None:
    other = ServerAddress(host="10.78.0.12", port=6380)
    text = exposure_warning("db", [NODE, LOOP, other], None)
    assert text is not None and text.count("\n") == 0
    assert "10.78.0.11:6379, 10.78.0.12:6380" in text and "127.0.0.1" not in text
    assert "password=" in text


@pytest.mark.parametrize(
    "addresses, password, private",
    [([LOOP], None, False), ([SOCK], None, False), ([NODE], "pw", False), ([NODE], None, True)],
)
def test_no_warning_when_not_reachable_or_protected(
    addresses: list[ServerAddress], password: str | None, private: bool
) -> None:
    assert exposure_warning("db", addresses, password, private) is None


def test_only_a_launcher_owned_network_generates_a_password(tmp_path: object) -> None:
    slurm = Orchestrator(interface="hsn0", launcher="slurm", path=str(tmp_path))
    assert not generates_password(slurm) and not slurm.needs_password
    local = Orchestrator(interface="auto", path=str(tmp_path))
    assert not local.needs_password
    local.bind_override = "0.0.0.0"  # what Databases.start sets on docker's own network
    assert local.needs_password
