"""``SSDB`` as SmartRedis reads it: a comma list of ``[tcp://]host:port`` / ``unix://path``.

Only letters, digits and ``. : , / _ -`` are allowed; one entry is picked at random
(so the ranks of an MPI job spread over the listed nodes); the port is read as C's
``stoul`` does (``0x`` hexadecimal and leading-zero octal are accepted).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from .error import RedisRuntimeError

UNIX_PREFIX = "unix://"
TCP_PREFIX = "tcp://"
_ALLOWED_SPECIALS = ".:,/_-"
_STOUL = re.compile(r"\s*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)")


@dataclass(frozen=True)
class Address:
    """One database node: a TCP host and port, or a Unix socket path."""

    host: str = ""
    port: int = 0
    socket_path: str | None = None

    @property
    def is_tcp(self) -> bool:
        return self.socket_path is None

    def __str__(self) -> str:
        """SmartRedis's spelling: ``host:port`` or ``unix://path``."""
        if self.socket_path is not None:
            return UNIX_PREFIX + self.socket_path
        return f"{self.host}:{self.port}"


def _port(text: str, address: str) -> int:
    match = _STOUL.match(text)
    if match is None:
        raise RedisRuntimeError(
            f"{address} is not a valid database node address: the port {text!r} is not a number"
        )
    sign, digits = match.groups()
    if digits[:2] in ("0x", "0X"):
        value = int(digits, 16)
    else:
        value = int(digits, 8 if digits.startswith("0") else 10)
    if sign == "-" or not 0 < value < 65536:
        raise RedisRuntimeError(f"{address} is not a valid database node address: bad port")
    return value


def parse_address(spec: str) -> Address:
    """One address; ``RedisRuntimeError`` as SmartRedis words it when it cannot be one."""
    if spec.startswith(UNIX_PREFIX):
        return Address(socket_path=spec[len(UNIX_PREFIX):])
    address = spec[len(TCP_PREFIX):] if spec.startswith(TCP_PREFIX) else spec
    colon = address.find(":")
    if colon <= 0 or colon >= len(address) - 1:
        raise RedisRuntimeError(f"{address} is not a valid database node address.")
    return Address(host=address[:colon], port=_port(address[colon + 1:], address))


def check_ssdb(ssdb: str) -> None:
    for char in ssdb:
        if not (char.isascii() and char.isalnum()) and char not in _ALLOWED_SPECIALS:
            raise RedisRuntimeError(
                f"The provided SSDB value, {ssdb} is invalid because of character {char}"
            )


def parse_ssdb(ssdb: str) -> list[Address]:
    """Every address of ``ssdb`` (a trailing comma is allowed, an empty middle entry is not)."""
    if not ssdb:
        raise RedisRuntimeError(
            "The environment variable SSDB must be set to use the client (host:port or "
            "unix:///path/to/socket)."
        )
    check_ssdb(ssdb)
    parts = ssdb.split(",")
    if parts[-1] == "":
        parts.pop()
    return [parse_address(part) for part in parts]


def choose_address(ssdb: str) -> Address:
    """The address this client connects to: one of ``ssdb``'s, picked at random."""
    return random.choice(parse_ssdb(ssdb))  # noqa: S311 - spreading load, not security
