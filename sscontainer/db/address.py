"""Database addresses: ``host:port``, ``[v6]:port`` or ``unix:///path``, and ``SSDB`` lists."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

from ..errors import SSConfigError

UNIX_SCHEME = "unix://"
LOOPBACK_NAMES = frozenset({"lo", "lo0", "localhost"})


@dataclass(frozen=True)
class ServerAddress:
    """Where one Redis-protocol server listens: a TCP host/port or a Unix socket."""

    host: str = ""
    port: int = 0
    unix_socket: str | None = None

    @property
    def is_unix(self) -> bool:
        return self.unix_socket is not None

    def __str__(self) -> str:
        if self.unix_socket is not None:
            return UNIX_SCHEME + self.unix_socket
        if ":" in self.host:  # IPv6 literal
            return f"[{self.host}]:{self.port}"
        return f"{self.host}:{self.port}"


def parse_address(text: str) -> ServerAddress:
    """Parse one address; raises :class:`SSConfigError` saying what form is expected."""
    raw = text.strip()
    if not raw:
        raise SSConfigError("empty database address: expected host:port or unix:///path")
    if raw.startswith(UNIX_SCHEME):
        path = raw[len(UNIX_SCHEME):]
        if not path.startswith("/"):
            raise SSConfigError(
                f"database address {text!r}: a Unix socket needs an absolute path "
                "(unix:///path/to/socket)"
            )
        return ServerAddress(unix_socket=path)
    if raw.startswith("["):
        host, sep, rest = raw[1:].partition("]")
        if not sep or not rest.startswith(":"):
            raise SSConfigError(f"database address {text!r}: expected [ipv6]:port")
        port_text = rest[1:]
    else:
        host, sep, port_text = raw.rpartition(":")
        if not sep or not host:
            raise SSConfigError(
                f"database address {text!r} has no port: expected host:port "
                "(e.g. 127.0.0.1:6379) or unix:///path/to/socket"
            )
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise SSConfigError(
            f"database address {text!r}: port {port_text!r} is not a number in 1-65535"
        )
    return ServerAddress(host=host, port=int(port_text))


def parse_ssdb(ssdb: str) -> list[ServerAddress]:
    """Parse an ``SSDB`` value: comma-separated addresses (at least one).

    Semicolons are accepted as separators too (old SmartRedis docs wrote
    ``SSDB="127.0.0.1:6379;"``).
    """
    parts = [part for part in ssdb.replace(";", ",").split(",") if part.strip()]
    if not parts:
        raise SSConfigError(
            "SSDB is empty: set it to host:port[,host:port...] or unix:///path/to/socket"
        )
    return [parse_address(part) for part in parts]


def format_ssdb(addresses: list[ServerAddress]) -> str:
    """The ``SSDB`` value an entity needs to reach ``addresses``."""
    return ",".join(str(address) for address in addresses)


def is_loopback(host: str) -> bool:
    """True for loopback interface names and addresses (127.0.0.0/8, ::1, localhost)."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def find_free_port(host: str = "127.0.0.1", avoid: frozenset[int] = frozenset()) -> int:
    """A TCP port that nothing listens on right now (the kernel picks it).

    Another process may still take it before the server binds: callers that start
    servers retry on "Address already in use".
    """
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((host, 0))
            port = int(sock.getsockname()[1])
        if port not in avoid:
            return port
    raise SSConfigError(f"could not find a free TCP port on {host}")


def interface_address(ifname: str) -> str:
    """The IPv4 address of network interface ``ifname`` (``lo`` gives 127.0.0.1).

    An IP address is returned unchanged, so callers may pass either form.
    """
    try:
        ipaddress.ip_address(ifname)
        return ifname
    except ValueError:
        pass
    if ifname in LOOPBACK_NAMES:
        return "127.0.0.1"
    import fcntl
    import struct

    siocgifaddr = 0x8915  # Linux ioctl: get the interface's IPv4 address
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            packed = fcntl.ioctl(
                sock.fileno(), siocgifaddr, struct.pack("256s", ifname.encode()[:15])
            )
        except OSError as exc:
            names = ", ".join(name for _, name in socket.if_nameindex())
            raise SSConfigError(
                f"network interface {ifname!r} has no IPv4 address here ({exc.strerror}); "
                f"interfaces on this host: {names}"
            ) from exc
    return socket.inet_ntoa(packed[20:24])
