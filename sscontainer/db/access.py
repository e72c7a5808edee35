"""Who may connect to a database: the rule, in one place (DESIGN.md, "Who may connect").

SmartRedis cannot authenticate, so no launcher generates a password: every default set-up
serves clients without one. Loopback (local), a colocated socket in a private 0700
directory, the docker launcher's per-experiment bridge network (reachable from this host
and the experiment's containers, as loopback is from this host) and the cluster's
interface under Slurm. A password is opt-in (``create_database(password=...)``;
sscontainer's client sends it, SmartRedis cannot). A database reachable beyond its host
without one is said in one warning, naming the addresses.
"""

from __future__ import annotations

from collections.abc import Sequence

from .address import ServerAddress, is_loopback


def exposed(addresses: Sequence[ServerAddress]) -> list[ServerAddress]:
    """The addresses other hosts may reach (TCP, not loopback)."""
    return [a for a in addresses if not a.is_unix and not is_loopback(a.host)]


def exposure_warning(name: str, addresses: Sequence[ServerAddress], password: str | None,
                     private_network: bool = False) -> str | None:
    """The one warning for a database reachable beyond its host without a password."""
    reachable = exposed(addresses)
    if password or private_network or not reachable:
        return None
    shown = ", ".join(str(a) for a in reachable)
    return (
        f"sscontainer: warning: database {name} listens on {shown} without a password: "
        "any process that reaches these addresses can read and change its data (SmartRedis "
        "clients cannot send one); give create_database(password=...) to require one "
        "(sscontainer's Client sends it)"
    )
