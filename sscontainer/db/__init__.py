"""Database servers: binaries, shard configs, processes, clusters, live config, colocation.

What the Experiment side uses to run an orchestrator's shards (wherever a launcher
runs them): :class:`ShardConfig` + :func:`write_config` + :func:`server_argv` for each
shard's command, :func:`wait_until_ready`, :func:`create_cluster` (or
:func:`cluster_create_argv`), :class:`LiveConfig`, :func:`shutdown`. On this host,
:class:`LocalDatabase` does all of that. Colocated models use :class:`ColocatedConfig`
and ``python -m sscontainer.db.colocated``.
"""

from __future__ import annotations

from .address import (
    ServerAddress,
    find_free_port,
    format_ssdb,
    interface_address,
    is_loopback,
    parse_address,
    parse_ssdb,
)
from .binary import find_cli_binary, find_server_binary
from .cluster import (
    MIN_CLUSTER_SHARDS,
    cluster_create_argv,
    cluster_create_env,
    create_cluster,
    validate_db_nodes,
    wait_cluster_ok,
)
from .colocated_config import ColocatedConfig, split_db_kwargs, supervisor_argv
from .live_config import EVICTION_POLICIES, LiveConfig
from .local import LocalDatabase
from .pinning import parse_pinning, resolve_pinning
from .server import ServerProcess, ping, shutdown, wait_until_ready
from .server_config import ShardConfig, render_config, server_argv, write_config

__all__ = [
    "EVICTION_POLICIES", "MIN_CLUSTER_SHARDS", "ColocatedConfig", "LiveConfig", "LocalDatabase",
    "ServerAddress", "ServerProcess", "ShardConfig", "cluster_create_argv", "cluster_create_env",
    "create_cluster", "find_cli_binary", "find_free_port", "find_server_binary", "format_ssdb",
    "interface_address", "is_loopback", "parse_address", "parse_pinning", "parse_ssdb", "ping",
    "render_config", "resolve_pinning", "server_argv", "shutdown", "split_db_kwargs",
    "supervisor_argv",
    "validate_db_nodes", "wait_cluster_ok", "wait_until_ready", "write_config",
]
