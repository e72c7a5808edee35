"""Where a database's shards land and bind when a workload manager places them on nodes.

Under Slurm the driver does not know which node a shard's job gets, so the shard job
resolves its interface there (``python -m sscontainer.db.shard``): ``auto`` is that node's
own address, a name such as ``ib0`` or ``hsn0`` that node's address on it (a node without
it is the shard's error, naming that node's interfaces). A loopback interface serves only
the shard's own node: refused before anything is submitted when the cluster has others.
``hosts`` places shard ``i`` on ``hosts[i]``.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable, Mapping

from ..errors import SSConfigError
from .address import LOOPBACK_NAMES, interface_address, is_loopback

AUTO_INTERFACE = "auto"
NODE_LAUNCHERS = frozenset({"slurm"})  # shards land where the scheduler puts them


def check_hosts(hosts: str | Iterable[str] | None, db_nodes: int, launcher: str) -> list[str]:
    """One node name per shard, and only where a launcher can place shards on nodes."""
    chosen = [hosts] if isinstance(hosts, str) else list(hosts or [])
    if not chosen:
        return []
    if launcher not in NODE_LAUNCHERS:
        raise SSConfigError(
            f"hosts={chosen!r} places shards on cluster nodes, which the {launcher!r} launcher "
            "cannot do: remove hosts, or use launcher='slurm'"
        )
    for host in chosen:
        if not isinstance(host, str) or not host or any(c.isspace() or c == "," for c in host):
            raise SSConfigError(f"hosts: {host!r} is not a node name (one word, no commas)")
    if len(chosen) != db_nodes:
        raise SSConfigError(
            f"hosts names {len(chosen)} node(s) for {db_nodes} shard(s): give one host per "
            "shard (shard i runs on hosts[i])"
        )
    return chosen


def _bindable(address: str) -> bool:
    """Whether ``address`` belongs to this host (a socket can bind it)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind((address, 0))
    except OSError:
        return False
    return True


def host_addresses() -> dict[str, str]:
    """Interface name -> IPv4 address, for every interface of this host that has one."""
    found = {}
    for _, name in socket.if_nameindex():
        try:
            found[name] = interface_address(name)
        except SSConfigError:
            continue
    return found


def auto_address() -> tuple[str, str]:
    """This node's address for ``interface="auto"`` and how it was chosen.

    The address its host name resolves to (what clusters put in /etc/hosts and DNS for
    the node), else the first interface with an IPv4 address beyond loopback.
    """
    host = socket.gethostname()
    try:
        infos = socket.getaddrinfo(host, None, socket.AF_INET, socket.SOCK_STREAM)
    except OSError:
        infos = []
    for info in infos:
        address = str(info[4][0])
        if not is_loopback(address) and _bindable(address):
            return address, f"the address of this node's name {host!r}"
    addresses = host_addresses()
    for name, address in addresses.items():
        if name not in LOOPBACK_NAMES and not is_loopback(address):
            return address, f"interface {name}, the first one with an IPv4 address"
    raise SSConfigError(
        f"interface 'auto': node {host} has no IPv4 address beyond loopback (interfaces: "
        f"{', '.join(addresses) or 'none'}); give the interface other nodes reach it on"
    )


def node_bind_address(interface: str) -> tuple[str, str]:
    """Resolve ``interface`` here, on the node a shard runs on: (address, how)."""
    if interface == AUTO_INTERFACE:
        return auto_address()
    return interface_address(interface), f"interface {interface}"


def loopback_reach_error(
    name: str, interface: str, nodes: Mapping[str, str], driver_host: str | None = None
) -> str | None:
    """Why a loopback database cannot serve this cluster, or None when it can.

    ``nodes`` maps node names to the addresses the scheduler reaches them at. Loopback
    works only when every node is this host (a one-node cluster on the driver's machine).
    """
    here = set(host_addresses().values())
    here |= {socket.gethostname(), socket.getfqdn(), "localhost"}
    others = sorted(
        node for node, address in nodes.items()
        if not is_loopback(address) and address not in here and node not in here
    )
    if not others:
        return None
    shown = ", ".join(others[:4]) + (", ..." if len(others) > 4 else "")
    return (
        f"database {name}: interface {interface!r} binds each shard to the loopback of the "
        f"node it lands on, which other nodes ({shown}) and this driver on "
        f"{driver_host or socket.gethostname()} cannot reach: use interface='auto' (each "
        "shard binds its node's address) or the nodes' network interface (e.g. 'ib0', 'hsn0')"
    )
