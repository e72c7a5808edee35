"""Where shards land and bind under a workload manager: hosts, auto, loopback across nodes."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from sscontainer.db.address import is_loopback
from sscontainer.db.nodes import (
    auto_address,
    check_hosts,
    host_addresses,
    loopback_reach_error,
    node_bind_address,
)
from sscontainer.entities.orchestrator import Orchestrator
from sscontainer.errors import SSConfigError
from sscontainer.preview import PreviewInput, Verbosity, render


def test_hosts_one_per_shard_on_slurm_only() -> None:
    assert check_hosts(None, 3, "local") == []
    assert check_hosts("n1", 1, "slurm") == ["n1"]
    assert check_hosts(["n1", "n1", "n2"], 3, "slurm") == ["n1", "n1", "n2"]
    with pytest.raises(SSConfigError, match="one host per shard"):
        check_hosts(["n1", "n2"], 3, "slurm")
    with pytest.raises(SSConfigError, match="launcher='slurm'"):
        check_hosts(["n1"], 1, "local")
    with pytest.raises(SSConfigError, match="not a node name"):
        check_hosts(["n1,n2"], 1, "slurm")


def test_loopback_serves_a_cluster_only_when_every_node_is_this_host() -> None:
    assert loopback_reach_error("db", "lo", {"localhost": "127.0.0.1"}) is None
    assert loopback_reach_error("db", "lo", {socket.gethostname(): socket.gethostname()}) is None
    text = loopback_reach_error("db", "lo", {"n1": "10.9.9.1", "n2": "10.9.9.2"})
    assert text is not None and "n1, n2" in text and "interface='auto'" in text


def test_auto_is_a_non_loopback_address_of_this_host() -> None:
    if not [a for a in host_addresses().values() if not is_loopback(a)]:
        pytest.skip("this host has no address beyond loopback")
    address, how = auto_address()
    assert not is_loopback(address) and address in host_addresses().values()
    assert how
    assert node_bind_address("lo") == ("127.0.0.1", "interface lo")


def test_under_slurm_the_interface_is_resolved_on_the_node(tmp_path: Path) -> None:
    with pytest.raises(SSConfigError, match="interfaces on this host"):
        Orchestrator(interface="nope9", path=str(tmp_path))  # here: checked now
    db = Orchestrator(interface="nope9", launcher="slurm", hosts=["n2"], path=str(tmp_path))
    assert db.binds_on_nodes and db.hosts == ["n2"]
    text = render(PreviewInput("e", str(tmp_path), "slurm", [db], [], []), Verbosity.DEBUG)
    assert "interface nope9 on each shard's node" in text and "n2" in text
    assert Orchestrator(interface="auto", path=str(tmp_path)).bind_address == "127.0.0.1"
