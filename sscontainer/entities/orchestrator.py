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
from ..errors import DatabaseError, SSConfigError, UnsupportedArgumentError
from ..log import get_logger
from ..names import validate_name
from ..settings.batch import SbatchSettings
from .db_kwargs import check_db_kwargs
from .model import SSEntity

DEFAULT_DB_IDENTIFIER = "orchestrator"
CHECKPOINT_NAME = "smartsim_db.dat"  # SmartSim's name for the file reconnect reads
# options sscontainer sets on each shard's job itself (SmartSim's reserved srun/sbatch args)
RESERVED_SHARD_ARGS = frozenset({
    "nodes", "N", "ntasks", "n", "ntasks-per-node", "output", "o", "error", "e",
    "job-name", "J", "jobid", "multi-prog", "w", "chdir", "D",
})
logger = get_logger("sscontainer.orchestrator")


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
        path: str | None = None,
        port: int = 6379,
        interface: str | Iterable[str] = "lo",
        launcher: str = "local",
        run_command: str = "auto",
        db_nodes: int = 1,
        batch: bool = False,
        hosts: str | Iterable[str] | None = None,
        account: str | None = None,
        time: str | None = None,
        alloc: str | None = None,
        single_cmd: bool = False,
        *,
        threads_per_queue: int | None = None,
        inter_op_threads: int | None = None,
        intra_op_threads: int | None = None,
        db_identifier: str = DEFAULT_DB_IDENTIFIER,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        """SmartSim's signature (``path`` first). Extra ``kwargs`` are server settings
        (``maxmemory="1gb"``); any other name is refused (``UnsupportedArgumentError``)."""
        if isinstance(path, int) and not isinstance(path, bool):
            # Orchestrator(6780, ...): a port given first, as SmartSim's own tests do
            port, path = path, None
        super().__init__(validate_name(db_identifier, "db_identifier"), path, None)
        self.db_identifier = db_identifier
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise SSConfigError(f"port must be an integer in 1-65535, got {port!r}")
        self.port = port
        if db_nodes == 2 and not isinstance(db_nodes, bool):  # SmartSim: SSUnsupportedError
            raise UnsupportedArgumentError(
                "db_nodes=2 is not possible: Redis Cluster needs at least 3 master shards; "
                "use db_nodes=1 (standalone) or db_nodes>=3 (cluster)"
            )
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
        if self.batch and launcher == "local":
            raise SSConfigError("a local orchestrator cannot be launched with batch=True")
        self.run_command = run_command
        self.single_cmd = bool(single_cmd)
        self.alloc = alloc
        self.db_cpus = int(kwargs.pop("db_cpus", 1))
        for ignored in ("queue", "gpus_per_shard", "cpus_per_shard"):  # SmartSim: PBS/LSF
            kwargs.pop(ignored, None)
        threads = {
            key: value
            for key, value in (
                ("threads_per_queue", threads_per_queue),
                ("inter_op_threads", inter_op_threads),
                ("intra_op_threads", intra_op_threads),
            )
            if value is not None
        }
        settings = check_db_kwargs({**kwargs, **threads}, "Orchestrator")
        self.server_conf, self.ml_threads = split_db_kwargs(settings)
        for key, value in self.server_conf.items():
            validate_directive(key, value)
        self.run_args: dict[str, str | None] = {}
        self.batch_settings: SbatchSettings | None = None
        if self.batch:
            self.batch_settings = SbatchSettings(
                nodes=self.db_nodes, time=time or "", account=account
            )
        self.password = password
        # set by a launcher whose shards run on their own network (all interfaces there)
        self.bind_override: str | None = None
        self._addresses: list[ServerAddress] = []

    # --- SmartSim's attributes and setters ---------------------------------------------
    @property
    def queue_threads(self) -> int | None:
        return self.ml_threads.get("threads_per_queue")

    @property
    def inter_threads(self) -> int | None:
        return self.ml_threads.get("inter_op_threads")

    @property
    def intra_threads(self) -> int | None:
        return self.ml_threads.get("intra_op_threads")

    @property
    def ports(self) -> list[int]:
        """The TCP port of every shard."""
        return [self.port + i for i in range(self.db_nodes)]

    @property
    def checkpoint_file(self) -> str:
        """Where a started database records how to reach it (``reconnect_orchestrator``)."""
        return os.path.join(self.path, CHECKPOINT_NAME)

    def set_path(self, new_path: str) -> None:
        self.path = os.path.abspath(new_path)

    def set_run_arg(self, arg: str, value: str | None = None) -> None:
        """An option for the command that launches each shard (``srun``-style name).

        Under Slurm each shard is a job, so the option reaches its ``sbatch``;
        the options sscontainer sets itself are refused with a warning.
        """
        if arg.lstrip("-") in RESERVED_SHARD_ARGS:
            logger.warning(f"Can not set run argument {arg}: it is a reserved keyword in "
                           "Orchestrator")
            return
        self.run_args[arg.lstrip("-")] = value

    def set_batch_arg(self, arg: str, value: str | None = None) -> None:
        """A batch option; only for an orchestrator made with ``batch=True``."""
        if self.batch_settings is None:
            raise SSConfigError(
                "Not running as batch, cannot set batch_arg: create the database with "
                "batch=True"
            )
        if arg.lstrip("-") in RESERVED_SHARD_ARGS:
            logger.warning(f"Can not set batch argument {arg}: it is a reserved keyword in "
                           "Orchestrator")
            return
        self.batch_settings.set(arg.lstrip("-"), value)

    def set_walltime(self, walltime: str) -> None:
        if self.batch_settings is None:
            raise SSConfigError("Not running as batch, cannot set walltime")
        self.batch_settings.set_walltime(walltime)

    def shard_batch_args(self) -> list[str]:
        """``sbatch`` options for every shard's job (its run and batch args)."""
        args = [f"--{k}" if v is None else f"--{k}={v}" for k, v in self.run_args.items()]
        if self.batch_settings is not None:
            given = {a.split("=", 1)[0] for a in args}
            args += [
                a for a in self.batch_settings.format_batch_args()
                if a.split("=", 1)[0] not in given | {"--nodes"}
            ]
        return args

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
