"""Who may connect to a database: the rule, in one place (DESIGN.md, "Who may connect").

SmartRedis cannot authenticate, so every launcher's default set-up serves clients without a
password: loopback (local), a colocated socket in a private directory, the cluster's
interface under Slurm. A password is opt-in (``create_database(password=...)``; sscontainer's
client sends it). A database reachable beyond its host without one is said in one warning,
naming the addresses.

Docker's per-experiment network still gets a generated password here (the docker launcher's
own rule, unchanged until that launcher's work revisits it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .address import ServerAddress, is_loopback


def generates_password(orch: Any) -> bool:
    """Whether starting ``orch`` generates a password: only on a launcher-owned network."""
    return getattr(orch, "bind_override", None) is not None


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
