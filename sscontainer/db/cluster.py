"""Redis Cluster: shard count rules, ``--cluster create`` and waiting for ``cluster_state:ok``."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Sequence

import redis

from ..errors import DatabaseError, SSConfigError
from .address import ServerAddress
from .binary import find_cli_binary
from .server import admin_connection

MIN_CLUSTER_SHARDS = 3
CLUSTER_SLOTS = 16384
DEFAULT_CLUSTER_TIMEOUT = 60.0


def validate_db_nodes(db_nodes: object) -> int:
    """1 (standalone) or >= 3 (Redis Cluster); anything else is a clear :class:`SSConfigError`."""
    if isinstance(db_nodes, bool) or not isinstance(db_nodes, int) or db_nodes < 1:
        raise SSConfigError(f"db_nodes must be a positive integer, got {db_nodes!r}")
    if db_nodes == 2:
        raise SSConfigError(
            "db_nodes=2 is not possible: Redis Cluster needs at least 3 master shards; "
            "use db_nodes=1 (standalone) or db_nodes>=3 (cluster)"
        )
    return db_nodes


def remove_stale_state(data_dir: str, label: str) -> None:
    """Forget the cluster an earlier start of this shard belonged to (``nodes-<label>.conf``).

    A server that finds its old node table refuses to join a new cluster ("Node ... is
    not empty"), so a database started again in the same path must start from none.
    """
    try:
        os.unlink(os.path.join(data_dir, f"nodes-{label}.conf"))
    except FileNotFoundError:
        pass


def cluster_create_argv(cli: str, addresses: Sequence[ServerAddress]) -> list[str]:
    """The ``--cluster create`` command joining ``addresses`` as masters (no replicas).

    The password is not on this command line: pass it in the environment
    (see :func:`cluster_create_env`).
    """
    if len(addresses) < MIN_CLUSTER_SHARDS:
        raise SSConfigError(
            f"a cluster needs at least {MIN_CLUSTER_SHARDS} shards, got {len(addresses)}"
        )
    if any(address.unix_socket is not None for address in addresses):
        raise SSConfigError("Redis Cluster shards need TCP addresses, not Unix sockets")
    hosts = [f"{a.host}:{a.port}" if ":" not in a.host else str(a) for a in addresses]
    return [cli, "--cluster", "create", *hosts, "--cluster-replicas", "0", "--cluster-yes"]


def cluster_create_env(password: str | None) -> dict[str, str]:
    """Environment additions that hand the password to redis-cli/valkey-cli."""
    if not password:
        return {}
    return {"REDISCLI_AUTH": password, "VALKEYCLI_AUTH": password}


def create_cluster(
    addresses: Sequence[ServerAddress],
    password: str | None = None,
    cli: str | None = None,
    timeout: float = DEFAULT_CLUSTER_TIMEOUT,
) -> None:
    """Join running cluster-enabled shards into one cluster and wait until it is usable.

    Returns when all 16384 slots are assigned and every node reports
    ``cluster_state:ok``; raises :class:`DatabaseError` (with the CLI's output)
    otherwise.
    """
    argv = cluster_create_argv(find_cli_binary(cli), addresses)
    env = dict(os.environ)
    env.update(cluster_create_env(password))
    try:
        result = subprocess.run(
            argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
            timeout=timeout, check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise DatabaseError(
            f"`{' '.join(argv[:3])} ...` did not finish within {timeout:.0f} s"
        ) from exc
    output = (result.stdout + result.stderr).strip()
    if result.returncode != 0 or "[ERR]" in output:
        tail = "\n".join(output.splitlines()[-8:])
        raise DatabaseError(
            f"creating the cluster from {', '.join(map(str, addresses))} failed "
            f"(exit status {result.returncode}):\n{tail}"
        )
    wait_cluster_ok(addresses, password, timeout)


def cluster_info(address: ServerAddress, password: str | None = None) -> dict[str, str]:
    """``CLUSTER INFO`` of one node as a dict of strings."""
    conn = admin_connection(address, password, timeout=2.0)
    try:
        text = conn.execute_command("CLUSTER", "INFO")  # type: ignore[no-untyped-call]
    finally:
        conn.close()
    if isinstance(text, dict):  # some redis-py versions parse the reply already
        return {str(k): str(v) for k, v in text.items()}
    info: dict[str, str] = {}
    for line in str(text).splitlines():
        key, sep, value = line.partition(":")
        if sep:
            info[key.strip()] = value.strip()
    return info


def wait_cluster_ok(
    addresses: Sequence[ServerAddress],
    password: str | None = None,
    timeout: float = DEFAULT_CLUSTER_TIMEOUT,
) -> None:
    """Block until every node sees all slots assigned and ``cluster_state:ok``."""
    deadline = time.monotonic() + timeout
    pending = list(addresses)
    last = ""
    while pending:
        still: list[ServerAddress] = []
        for address in pending:
            try:
                info = cluster_info(address, password)
            except redis.RedisError as exc:
                last = f"{address}: {exc}"
                still.append(address)
                continue
            if (
                info.get("cluster_state") != "ok"
                or info.get("cluster_slots_assigned") != str(CLUSTER_SLOTS)
            ):
                last = (
                    f"{address}: cluster_state={info.get('cluster_state')}, "
                    f"slots assigned={info.get('cluster_slots_assigned')}"
                )
                still.append(address)
        pending = still
        if pending:
            if time.monotonic() >= deadline:
                raise DatabaseError(
                    f"the cluster was not ready within {timeout:.0f} s ({last})"
                )
            time.sleep(0.1)
