"""A database made of server processes on this host: 1 standalone shard or a >=3-shard cluster.

Used by the local launcher path, the tests and the benchmarks. Launchers that
run shards elsewhere use the same pieces (:func:`server_argv`,
:func:`wait_until_ready`, :func:`create_cluster`, :class:`LiveConfig`) directly.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from types import TracebackType

from ..errors import DatabaseError
from .address import ServerAddress, find_free_port, format_ssdb
from .binary import find_server_binary
from .cluster import create_cluster, remove_stale_state, validate_db_nodes
from .live_config import LiveConfig
from .server import DEFAULT_READY_TIMEOUT, ServerProcess
from .server_config import ShardConfig, server_argv, write_config

_PORT_RETRIES = 5  # when we picked a "free" port, someone may take it before the server binds


class LocalDatabase:
    """Start ``db_nodes`` servers here; ``stop()`` (or the ``with`` block) removes them all.

    ``port=None`` picks free ports (what tests want); an explicit ``port`` gives
    shard ``i`` the port ``port + i``. ``bind`` is an address, not an interface
    name (see :func:`interface_address`). ``unix_socket`` is only for a
    standalone database.
    """

    def __init__(
        self,
        db_nodes: int = 1,
        port: int | None = None,
        bind: str = "127.0.0.1",
        password: str | None = None,
        unix_socket: str | None = None,
        socket_permissions: int = 0o700,
        base_dir: str | None = None,
        server_binary: str | None = None,
        cli_binary: str | None = None,
        server_conf: Mapping[str, str] | None = None,
        ready_timeout: float = DEFAULT_READY_TIMEOUT,
        loglevel: str = "notice",
    ) -> None:
        self.db_nodes = validate_db_nodes(db_nodes)
        if unix_socket is not None and self.db_nodes > 1:
            raise DatabaseError(
                "a Unix socket is only possible for a standalone (1-shard) database"
            )
        self.port = port
        self.bind = bind
        self.password = password
        self.unix_socket = unix_socket
        self.socket_permissions = socket_permissions
        self.server_conf = dict(server_conf or {})
        self.ready_timeout = ready_timeout
        self.loglevel = loglevel
        self.cli_binary = cli_binary
        self.binary = find_server_binary(server_binary)
        self._own_dir = base_dir is None
        self.base_dir = base_dir or tempfile.mkdtemp(prefix="sscontainer-db-")
        self.shards: list[ServerProcess] = []

    @property
    def is_cluster(self) -> bool:
        return self.db_nodes > 1

    @property
    def addresses(self) -> list[ServerAddress]:
        return [shard.address for shard in self.shards]

    @property
    def ssdb(self) -> str:
        return format_ssdb(self.addresses)

    @property
    def db_type(self) -> str:
        return "Clustered" if self.is_cluster else "Standalone"

    @property
    def env(self) -> dict[str, str]:
        """What an entity needs in its environment to reach this database."""
        env = {"SSDB": self.ssdb, "SR_DB_TYPE": self.db_type}
        if self.password:
            env["SSDB_PASSWORD"] = self.password
        return env

    def live_config(self) -> LiveConfig:
        return LiveConfig(self.addresses, self.password)

    def _shard_config(self, index: int, used: set[int]) -> ShardConfig:
        unix_only = self.unix_socket is not None and self.port is None
        if unix_only:
            port = 0
        elif self.port is None:
            port = find_free_port(self.bind, frozenset(used))
        else:
            port = self.port + index
        used.add(port)
        bus = None
        if self.is_cluster and self.port is None:
            # port + 10000 may be taken (or > 65535) when the port was picked at random
            bus = find_free_port(self.bind, frozenset(used))
            used.add(bus)
        shard_dir = os.path.join(self.base_dir, f"shard-{index}")
        os.makedirs(shard_dir, exist_ok=True)
        if self.is_cluster:
            remove_stale_state(shard_dir, str(port))
        return ShardConfig(
            port=port,
            bind=(self.bind,),
            unix_socket=self.unix_socket,
            socket_permissions=self.socket_permissions,
            cluster=self.is_cluster,
            cluster_port=bus,
            password=self.password,
            data_dir=shard_dir,
            loglevel=self.loglevel,
            extra=self.server_conf,
        )

    def _start_shard(self, index: int, used: set[int]) -> ServerProcess:
        attempts = _PORT_RETRIES if self.port is None else 1
        for attempt in range(attempts):
            cfg = self._shard_config(index, used)
            conf_path = write_config(cfg, os.path.join(cfg.data_dir, "server.conf"))
            shard = ServerProcess(
                server_argv(self.binary, conf_path), cfg.address,
                log_path=os.path.join(cfg.data_dir, "server.log"),
                password=self.password, cwd=cfg.data_dir,
            ).start()
            try:
                shard.wait_ready(self.ready_timeout)
                return shard
            except DatabaseError as exc:
                busy = "Address already in use" in str(exc)
                if not busy or attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")

    def start(self) -> LocalDatabase:
        if self.shards:
            raise DatabaseError("this database is already started")
        used: set[int] = set()
        try:
            for index in range(self.db_nodes):
                self.shards.append(self._start_shard(index, used))
            if self.is_cluster:
                create_cluster(self.addresses, self.password, self.cli_binary)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop every shard and remove the working files this object created."""
        for shard in self.shards:
            shard.stop()
        self.shards = []
        if self._own_dir:
            shutil.rmtree(self.base_dir, ignore_errors=True)

    def __enter__(self) -> LocalDatabase:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
