"""The colocated database's configuration: what the Model side writes, the supervisor reads.

The Model/Experiment side builds a :class:`ColocatedConfig` (from
``colocate_db_uds``/``colocate_db_tcp`` and their ``**kwargs``, see
:func:`split_db_kwargs`), writes it with :meth:`ColocatedConfig.to_json`,
and launches ``python -m sscontainer.db.colocated --config FILE.json -- APP ...``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import SSConfigError
from ..names import validate_name
from .address import is_loopback
from .pinning import parse_pinning
from .server_config import validate_directive

TRANSPORTS = ("uds", "tcp")
ML_THREAD_KEYS = ("threads_per_queue", "inter_op_threads", "intra_op_threads")
DEFAULT_UNIX_SOCKET = "/tmp/redis.socket"


def _conf_value(key: str, value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float, str)):
        return str(value)
    raise SSConfigError(f"database setting {key}={value!r}: use a string or a number")


def split_db_kwargs(kwargs: Mapping[str, object]) -> tuple[dict[str, str], dict[str, int]]:
    """Split ``colocate_db_*(**kwargs)`` into server settings and ML worker thread counts.

    ``maxclients=100000`` becomes the server setting ``{"maxclients": "100000"}``;
    ``threads_per_queue``/``inter_op_threads``/``intra_op_threads`` go to the ML
    worker (they are never given to the server). Underscores in other names
    become dashes (``maxmemory_policy`` -> ``maxmemory-policy``).
    """
    server_conf: dict[str, str] = {}
    ml_threads: dict[str, int] = {}
    for key, value in kwargs.items():
        if key in ML_THREAD_KEYS:
            ml_threads[key] = value  # type: ignore[assignment]  # checked in __post_init__
        else:
            name = key.replace("_", "-")
            server_conf[name] = _conf_value(key, value)
    return server_conf, ml_threads


@dataclass
class ColocatedConfig:
    """Settings for one colocated database (one per node, shared by the model's ranks).

    ``transport="uds"`` uses ``unix_socket`` (created with ``socket_permissions``,
    an int mode such as ``0o755``) and no TCP port; ``transport="tcp"`` listens on
    the loopback interface ``ifname`` at ``port``. ``custom_pinning``: ``None``
    pins to the first ``db_cpus`` CPUs this process may use, ``[]`` disables
    pinning, else a list such as ``[0, "2-3"]`` or a string ``"0,2-3"`` (stored
    expanded, e.g. ``[0, 2, 3]``).
    """

    transport: str = "uds"
    port: int = 6379
    ifname: str = "lo"
    unix_socket: str = DEFAULT_UNIX_SOCKET
    socket_permissions: int = 0o755
    db_cpus: int = 1
    custom_pinning: Any = None  # list[int | str] | str | None, normalised to list[int] | None
    debug: bool = False
    db_identifier: str = ""
    server_conf: dict[str, str] = field(default_factory=dict)
    ml_threads: dict[str, int] = field(default_factory=dict)
    assets_file: str | None = None
    server_binary: str | None = None
    log_path: str | None = None

    def __post_init__(self) -> None:
        if self.transport not in TRANSPORTS:
            raise SSConfigError(f"transport {self.transport!r}: use 'uds' or 'tcp'")
        if self.transport == "tcp":
            if isinstance(self.port, bool) or not isinstance(self.port, int) or not (
                0 < self.port < 65536
            ):
                raise SSConfigError(f"port {self.port!r} must be an integer in 1-65535")
            if not is_loopback(self.ifname):
                raise SSConfigError(
                    f"ifname {self.ifname!r}: a colocated database listens on the loopback "
                    "interface only ('lo' or 127.0.0.1); use a standalone database to serve "
                    "other hosts"
                )
        else:
            if not isinstance(self.unix_socket, str) or not os.path.isabs(self.unix_socket):
                raise SSConfigError(f"unix_socket {self.unix_socket!r} must be an absolute path")
            if len(self.unix_socket.encode()) > 100:
                raise SSConfigError(f"unix_socket {self.unix_socket!r} is too long (> 100 bytes)")
        perm = self.socket_permissions
        if isinstance(perm, bool) or not isinstance(perm, int) or not 0 <= perm <= 0o777:
            hint = f" (did you mean 0o{perm}?)" if isinstance(perm, int) and perm > 0o777 else ""
            raise SSConfigError(
                f"socket_permissions {perm!r} is not a file mode: give an int such as 0o755{hint}"
            )
        if isinstance(self.db_cpus, bool) or not isinstance(self.db_cpus, int) or self.db_cpus < 1:
            raise SSConfigError(f"db_cpus must be a positive integer, got {self.db_cpus!r}")
        self.custom_pinning = parse_pinning(self.custom_pinning)
        if not isinstance(self.debug, bool):
            raise SSConfigError(f"debug must be True or False, got {self.debug!r}")
        if self.db_identifier:
            validate_name(self.db_identifier, "db_identifier")
        self.server_conf = {str(k): _conf_value(str(k), v) for k, v in self.server_conf.items()}
        for key, value in self.server_conf.items():
            validate_directive(key, value)
        for key, count in self.ml_threads.items():
            if key not in ML_THREAD_KEYS:
                raise SSConfigError(
                    f"ml_threads: unknown setting {key!r}; use {', '.join(ML_THREAD_KEYS)}"
                )
            if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                raise SSConfigError(f"ml_threads: {key} must be a positive integer, got {count!r}")
        for name in ("assets_file", "server_binary", "log_path"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value):
                raise SSConfigError(f"{name} must be a non-empty path or None, got {value!r}")

    @property
    def host(self) -> str:
        """The loopback address a TCP database binds to."""
        return "127.0.0.1" if self.ifname in ("lo", "lo0", "localhost") else self.ifname

    @property
    def ssdb(self) -> str:
        """The ``SSDB`` value the application gets."""
        if self.transport == "uds":
            return "unix://" + self.unix_socket
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def lock_path(self) -> str:
        """The file whose lock decides which rank on this node starts the server."""
        if self.transport == "uds":
            return self.unix_socket + ".lock"
        ident = self.db_identifier or "db"
        # the node's name too: a temp dir may be shared by several nodes (a shared /tmp)
        name = f"sscontainer-colo-{socket.gethostname()}-{ident}-{self.port}.lock"
        return os.path.join(tempfile.gettempdir(), name)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ColocatedConfig:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SSConfigError(f"colocated database config is not valid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise SSConfigError("colocated database config must be a JSON object")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise SSConfigError(
                f"colocated database config has unknown field(s) {', '.join(unknown)}; "
                f"known fields: {', '.join(sorted(known))}"
            )
        return cls(**data)

    def save(self, path: str) -> str:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(self.to_json())
        return path

    @classmethod
    def load(cls, path: str) -> ColocatedConfig:
        try:
            with open(path, encoding="utf-8") as handle:
                return cls.from_json(handle.read())
        except OSError as exc:
            raise SSConfigError(f"cannot read colocated database config {path}: {exc}") from exc


def supervisor_argv(
    config_path: str, app_argv: list[str] | tuple[str, ...], python: str = "python"
) -> list[str]:
    """The command a launcher runs for one rank of a colocated model.

    ``python`` is the interpreter inside the container/node that has sscontainer installed.
    """
    if not app_argv:
        raise SSConfigError("a colocated model needs an application command")
    return [python, "-m", "sscontainer.db.colocated", "--config", config_path, "--", *app_argv]
