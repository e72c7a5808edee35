"""Orchestrator: a Redis-protocol database of one shard or a >=3-shard Redis Cluster."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from ..db.access import generates_password
from ..db.address import ServerAddress, format_ssdb, interface_address
from ..db.cluster import validate_db_nodes
from ..db.colocated_config import split_db_kwargs
from ..db.live_config import LiveConfig
from ..db.nodes import AUTO_INTERFACE, NODE_LAUNCHERS, check_hosts
from ..db.server import ping
from ..db.server_config import ShardConfig, validate_directive
from ..errors import DatabaseError, SSConfigError
from ..names import validate_name
from .model import SSEntity

DEFAULT_DB_IDENTIFIER = "orchestrator"


class Orchestrator(SSEntity):
    """A database the experiment starts before the models that use it.

    Binds the loopback interface by default; ``interface="auto"`` is loopback on
    this host and each shard's node address under a workload manager, where every
    interface is resolved on the node the shard lands on. ``hosts`` places shard
    ``i`` on ``hosts[i]`` (Slurm). A password is opt-in (see :mod:`..db.access`).
    """

    entity_type = "Orchestrator"

    def __init__(
        self,
        port: int = 6379,
        db_nodes: int = 1,
        interface: str | Iterable[str] = "lo",
        hosts: str | Iterable[str] | None = None,
        batch: bool = False,
        run_command: str = "auto",
        db_identifier: str = DEFAULT_DB_IDENTIFIER,
        path: str | None = None,
        password: str | None = None,
        launcher: str = "local",
        **kwargs: Any,
    ) -> None:
        super().__init__(validate_name(db_identifier, "db_identifier"), path, None)
        self.db_identifier = db_identifier
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise SSConfigError(f"port must be an integer in 1-65535, got {port!r}")
        self.port = port
        self.db_nodes = validate_db_nodes(db_nodes)
        last = port + self.db_nodes - 1
        if last > 65535 or (self.db_nodes > 1 and last + 10000 > 65535):
            raise SSConfigError(
                f"ports {port}..{last} do not fit: a cluster shard also uses its port + 10000, "
                "so cluster ports must be 55535 or less"
            )
        interfaces = [interface] if isinstance(interface, str) else list(interface)
        if not interfaces:
            raise SSConfigError("interface: give at least one network interface, e.g. 'lo'")
        self.interfaces = interfaces
        self.launcher = launcher
        if launcher not in NODE_LAUNCHERS and interfaces[0] != AUTO_INTERFACE:
            interface_address(interfaces[0])  # unknown here: fails now (on a cluster: on the node)
        self.hosts = check_hosts(hosts, self.db_nodes, launcher)
        self.batch = bool(batch)
        self.run_command = run_command
        self.db_cpus = int(kwargs.pop("db_cpus", 1))
        kwargs.pop("single_cmd", None)  # SmartSim's MPMD switch: one command per shard here
        self.server_conf, self.ml_threads = split_db_kwargs(kwargs)
        for key, value in self.server_conf.items():
            validate_directive(key, value)
        self.password = password
        # set by a launcher whose shards run on their own network (all interfaces there)
        self.bind_override: str | None = None
        self._addresses: list[ServerAddress] = []

    # --- where it listens ----------------------------------------------------------
    @property
    def binds_on_nodes(self) -> bool:
        """Each shard resolves its interface on the node where it lands (workload managers)."""
        return self.launcher in NODE_LAUNCHERS and self.bind_override is None

    @property
    def bind_address(self) -> str:
        """The address shards bind on this host (a placeholder when they bind on nodes)."""
        if self.bind_override:
            return self.bind_override
        if self.binds_on_nodes or self.interfaces[0] == AUTO_INTERFACE:
            return "127.0.0.1"
        return interface_address(self.interfaces[0])

    @property
    def needs_password(self) -> bool:
        """Whether ``Experiment.start`` generates a password for it (see db/access.py)."""
        return generates_password(self)

    @property
    def num_shards(self) -> int:
        return self.db_nodes

    @property
    def is_cluster(self) -> bool:
        return self.db_nodes > 1

    def shard_configs(self, base_dir: str) -> list[ShardConfig]:
        return [
            ShardConfig(
                port=self.port + i,
                bind=(self.bind_address,),
                cluster=self.is_cluster,
                password=self.password,
                data_dir=os.path.join(base_dir, f"{self.name}_{i}"),
                extra=self.server_conf,
            )
            for i in range(self.db_nodes)
        ]

    # --- state while running --------------------------------------------------------
    def _set_running(self, addresses: list[ServerAddress]) -> None:
        self._addresses = list(addresses)

    @property
    def addresses(self) -> list[ServerAddress]:
        return list(self._addresses)

    def get_address(self) -> list[str]:
        if not self._addresses:
            raise DatabaseError(f"{self.name} is not running: start it with exp.start()")
        return [str(a) for a in self._addresses]

    def is_active(self) -> bool:
        return bool(self._addresses) and all(ping(a, self.password) for a in self._addresses)

    def client_env(self) -> dict[str, str]:
        """``SSDB``/``SR_DB_TYPE`` (suffixed ``_<id>`` unless the default identifier)."""
        suffix = "" if self.db_identifier == DEFAULT_DB_IDENTIFIER else f"_{self.db_identifier}"
        env = {
            f"SSDB{suffix}": format_ssdb(self._addresses),
            f"SR_DB_TYPE{suffix}": "Clustered" if self.is_cluster else "Standalone",
        }
        if self.password:
            env[f"SSDB_PASSWORD{suffix}"] = self.password
        return env

    # --- configuration: live, on every shard -------------------------------------------
    def _live(self) -> LiveConfig:
        if not self._addresses:
            raise DatabaseError(
                f"{self.name} is not running: start it first, or give the setting to "
                "create_database (e.g. create_database(maxmemory='1gb'))"
            )
        return LiveConfig(self._addresses, self.password)

    def set_db_conf(self, key: str, value: str) -> None:
        self._live().set_db_conf(key, value)

    def set_max_memory(self, mem: str) -> None:
        self._live().set_max_memory(mem)

    def set_eviction_strategy(self, strategy: str) -> None:
        self._live().set_eviction_strategy(strategy)

    def set_max_clients(self, clients: int = 50_000) -> None:
        self._live().set_max_clients(clients)

    def set_max_message_size(self, size: int = 1_073_741_824) -> None:
        self._live().set_max_message_size(size)

    def enable_checkpoints(self, frequency: int) -> None:
        self._live().enable_checkpoints(frequency)
