"""One shard's server configuration, rendered as a Redis config file.

Settings go into a config file (mode 0600), not onto the command line, so a
password never shows up in ``ps``. Who may connect (a password or none) is decided in
:mod:`.access`, not here. ``token`` marks the server as one launch's own: it is reported
back through ``CONFIG GET syslog-ident`` (unused while syslog is off).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..errors import SSConfigError
from .address import ServerAddress

_DIRECTIVE = re.compile(r"[a-z][a-z0-9-]*")
_PLAIN_VALUE = re.compile(r"[^\s\"'\\]+( [^\s\"'\\]+)*")
LOGLEVELS = ("debug", "verbose", "notice", "warning", "nothing")
# Directives owned by ShardConfig's own fields: setting them through ``extra``
# would silently contradict the field (or the security check).
_RESERVED = frozenset({
    "port", "bind", "unixsocket", "unixsocketperm", "cluster-enabled", "cluster-port",
    "cluster-config-file", "requirepass", "masterauth", "dir", "daemonize", "logfile",
    "include", "loadmodule", "protected-mode", "syslog-ident",
})
TOKEN_PREFIX = "sscontainer-"


@dataclass(frozen=True)
class ShardConfig:
    """How to run one server process (one shard, or a colocated database).

    ``port=0`` disables TCP (Unix socket only). ``extra`` holds further
    directives (``maxclients``, ``maxmemory``, ``save`` ...) as strings.
    """

    port: int = 6379
    bind: tuple[str, ...] = ("127.0.0.1",)
    unix_socket: str | None = None
    socket_permissions: int = 0o700
    cluster: bool = False
    cluster_port: int | None = None  # cluster bus port; None: port + 10000
    password: str | None = None
    data_dir: str = "."
    loglevel: str = "notice"
    node_timeout_ms: int = 5000
    extra: Mapping[str, str] = field(default_factory=dict)
    token: str | None = None  # this launch's mark, checked by the driver (launch.py)

    def __post_init__(self) -> None:
        validate_shard_config(self)

    @property
    def address(self) -> ServerAddress:
        """Where clients reach this server (the socket when there is one)."""
        if self.unix_socket is not None:
            return ServerAddress(unix_socket=self.unix_socket)
        host = self.bind[0]
        if host in ("0.0.0.0", "*"):
            host = "127.0.0.1"
        elif host in ("::", "-::*"):
            host = "::1"
        return ServerAddress(host=host, port=self.port)

    @property
    def label(self) -> str:
        """A short name for files that belong to this shard (dump, nodes.conf)."""
        if self.port:
            return str(self.port)
        return os.path.basename(self.unix_socket or "socket").replace(".", "_")


def validate_shard_config(cfg: ShardConfig) -> None:
    """Raise :class:`SSConfigError` for settings that cannot work or are unsafe."""
    if not isinstance(cfg.port, int) or not 0 <= cfg.port < 65536:
        raise SSConfigError(f"port {cfg.port!r} is not in 0-65535 (0 disables TCP)")
    if cfg.port == 0 and cfg.unix_socket is None:
        raise SSConfigError("port 0 disables TCP, so a unix_socket path is required")
    if cfg.port and not cfg.bind:
        raise SSConfigError("bind is empty: give at least one address (e.g. 127.0.0.1)")
    if cfg.unix_socket is not None:
        if not os.path.isabs(cfg.unix_socket):
            raise SSConfigError(f"unix_socket {cfg.unix_socket!r} must be an absolute path")
        if len(cfg.unix_socket.encode()) > 100:
            raise SSConfigError(
                f"unix_socket {cfg.unix_socket!r} is too long for a socket address "
                "(over 100 bytes): use a shorter path"
            )
    if not 0 <= cfg.socket_permissions <= 0o777:
        raise SSConfigError(
            f"socket_permissions {cfg.socket_permissions!r} is not a file mode: use an int "
            "such as 0o755 (note the 0o prefix)"
        )
    if cfg.cluster and cfg.port == 0:
        raise SSConfigError("a cluster shard needs a TCP port: Redis Cluster cannot use sockets")
    if cfg.cluster_port is not None and not 0 < cfg.cluster_port < 65536:
        raise SSConfigError(f"cluster_port {cfg.cluster_port!r} is not in 1-65535")
    if cfg.loglevel not in LOGLEVELS:
        raise SSConfigError(f"loglevel {cfg.loglevel!r}: use one of {', '.join(LOGLEVELS)}")
    if cfg.password is not None:
        if not cfg.password or any(not ch.isprintable() for ch in cfg.password):
            raise SSConfigError("the database password must be non-empty printable text")
    if cfg.token is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", cfg.token):
        raise SSConfigError(f"launch token {cfg.token!r}: letters, digits, '-' and '_' only")
    for key, value in cfg.extra.items():
        validate_directive(key, value)


def validate_directive(key: str, value: str) -> None:
    """Check one ``extra`` directive: a plain name and a value without quotes/newlines."""
    if not isinstance(key, str) or not _DIRECTIVE.fullmatch(key):
        raise SSConfigError(
            f"server setting {key!r} is not a config directive name (lowercase letters, "
            "digits and '-', e.g. maxclients)"
        )
    if key in _RESERVED:
        raise SSConfigError(
            f"server setting {key!r} is managed by sscontainer itself; use the dedicated "
            "option (port, interface, unix socket, password) instead"
        )
    if not isinstance(value, str):
        raise SSConfigError(f"server setting {key}: value {value!r} must be a string")
    if value and not _PLAIN_VALUE.fullmatch(value):
        raise SSConfigError(
            f"server setting {key}: value {value!r} may not contain quotes, backslashes, "
            "newlines or repeated spaces"
        )


def _quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def render_config(cfg: ShardConfig) -> str:
    """The config file text for ``cfg``."""
    lines = [
        "daemonize no",
        'logfile ""',  # log to stdout: the process owner captures it
        f"loglevel {cfg.loglevel}",
        f"port {cfg.port}",
        f"dir {_quote(os.path.abspath(cfg.data_dir))}",
        f"dbfilename dump-{cfg.label}.rdb",
        'save ""',  # no checkpoints unless asked (enable_checkpoints / extra)
        "appendonly no",
    ]
    if cfg.port:
        lines.append("bind " + " ".join(cfg.bind))
    if cfg.unix_socket is not None:
        lines.append(f"unixsocket {_quote(cfg.unix_socket)}")
        lines.append(f"unixsocketperm {cfg.socket_permissions:o}")
    if cfg.cluster:
        lines += [
            "cluster-enabled yes",
            f"cluster-config-file nodes-{cfg.label}.conf",
            f"cluster-node-timeout {cfg.node_timeout_ms}",
        ]
        if cfg.cluster_port is not None:
            lines.append(f"cluster-port {cfg.cluster_port}")
    if not cfg.password:
        # who may connect is decided by bind + password (access.py); the server's protected
        # mode would refuse every client beyond loopback, SmartRedis's among them
        lines.append("protected-mode no")
    if cfg.token:
        lines.append(f"syslog-ident {TOKEN_PREFIX}{cfg.token}")
    if cfg.password:
        lines.append(f"requirepass {_quote(cfg.password)}")
        if cfg.cluster:
            lines.append(f"masterauth {_quote(cfg.password)}")
    for key, value in cfg.extra.items():
        lines.append(f"{key} {value}" if value else f'{key} ""')
    return "\n".join(lines) + "\n"


def write_config(cfg: ShardConfig, path: str) -> str:
    """Write the config file (mode 0600: it may hold the password); returns ``path``."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(render_config(cfg))
    os.chmod(path, 0o600)
    return path


def server_argv(binary: str, conf_path: str) -> list[str]:
    """The command that runs one shard: the server binary and its config file."""
    return [binary, os.path.abspath(conf_path)]
