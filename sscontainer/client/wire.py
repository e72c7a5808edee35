"""One connection to one database node: RESP2 over a TCP or Unix socket.

Kept small and explicit: a command is packed into as few buffers as possible and
large arguments (tensor and model bytes) are handed to ``sendmsg`` as they are,
without a copy. Replies are parsed by hiredis (by :mod:`resp_reader` where hiredis is
not installed); an ``AI.TENSORGET ... META BLOB`` reply is read straight into the numpy
array it becomes (see :mod:`tensor_reply`).
Every read and write is bounded by the reply timeout (``SO_RCVTIMEO`` /
``SO_SNDTIMEO`` on a blocking socket: one system call per transfer).
"""

from __future__ import annotations

import errno
import socket
import struct
from collections.abc import Sequence
from typing import Any

from .ssdb import Address

try:
    from hiredis import Reader
    if not hasattr(Reader, "has_data"):  # hiredis < 2.1
        raise ImportError("hiredis without Reader.has_data")
except ImportError:
    from .resp_reader import Reader  # type: ignore[assignment]

Arg = bytes | str | int | memoryview
BIG_ARGUMENT = 16 * 1024  # larger arguments are sent from their own buffer
READ_SIZE = 256 * 1024
_IOV_MAX = 512


class ServerError(Exception):
    """An error reply (``-ERR ...``); its text is the server's, verbatim."""


class ConnectionLost(Exception):
    """The socket failed or the server closed it."""


class ReplyTimeout(ConnectionLost):
    """Nothing could be read or written within the reply timeout."""


# The smallest limit a server can set on one value (``proto-max-bulk-len``): a connection
# lost while sending a bigger value may mean the server refused it for its size.
SMALLEST_VALUE_LIMIT = 1024 * 1024


def pack(args: Sequence[Arg], out: list[bytes | memoryview]) -> None:
    """Append the RESP encoding of one command to ``out`` (big arguments by reference)."""
    head: list[bytes] = [b"*%d\r\n" % len(args)]
    for arg in args:
        if isinstance(arg, str):
            arg = arg.encode()
        elif isinstance(arg, int):
            arg = b"%d" % arg
        elif isinstance(arg, memoryview) and arg.nbytes < BIG_ARGUMENT:
            arg = arg.tobytes()  # a small copy beats a scatter-gather write
        size = len(arg) if isinstance(arg, bytes) else arg.nbytes
        if size < BIG_ARGUMENT and isinstance(arg, bytes):
            head.append(b"$%d\r\n%b\r\n" % (size, arg))
        else:
            head.append(b"$%d\r\n" % size)
            out.append(b"".join(head))
            out.append(arg)
            head = [b"\r\n"]
    out.append(b"".join(head))


def _timeval(seconds: float) -> bytes:
    whole = int(seconds)
    return struct.pack("ll", whole, int((seconds - whole) * 1e6))


class Connection:
    """A socket to one node; not thread-safe (a Client is used by one thread at a time)."""

    def __init__(self, address: Address, password: str | None, reply_timeout: float) -> None:
        self.address = address
        self.password = password
        self.reply_timeout = reply_timeout
        self.sock: socket.socket | None = None
        self.reader = Reader(replyError=ServerError)
        self.buffer = bytearray(READ_SIZE)
        self.view = memoryview(self.buffer)
        self.largest_unsent = 0  # bytes of the biggest value of a send that failed

    # --- connecting ----------------------------------------------------------------------
    def open(self, connect_timeout: float) -> None:
        """Connect (and authenticate); ``OSError`` / ``ServerError`` when that fails."""
        self.close()
        if self.address.socket_path is not None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.settimeout(connect_timeout)
                sock.connect(self.address.socket_path)
            except OSError:
                sock.close()
                raise
        else:
            sock = socket.create_connection(
                (self.address.host, self.address.port), timeout=connect_timeout
            )
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(None)  # blocking; the kernel bounds each transfer instead
        limit = _timeval(self.reply_timeout)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, limit)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, limit)
        self.sock = sock
        self.reader = Reader(replyError=ServerError)
        if self.password:
            reply = self.call("AUTH", self.password)
            if isinstance(reply, ServerError):
                self.close()
                raise reply

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.close()
            finally:
                self.sock = None

    # --- sending ---------------------------------------------------------------------------
    def send(self, parts: list[bytes | memoryview]) -> None:
        sock = self._socket()
        try:
            if len(parts) == 1:
                sock.sendall(parts[0])
                return
            views = [memoryview(part).cast("B") for part in parts]
            while views:
                sent = sock.sendmsg(views[:_IOV_MAX])
                while sent:
                    first = views[0]
                    if sent >= first.nbytes:
                        sent -= first.nbytes
                        views.pop(0)
                    else:
                        views[0] = first[sent:]
                        sent = 0
                while views and not views[0].nbytes:
                    views.pop(0)
        except OSError as exc:
            self.largest_unsent = max(len(part) if isinstance(part, bytes) else part.nbytes
                                      for part in parts)
            self._lost(exc, "sending")

    def _socket(self) -> socket.socket:
        if self.sock is None:
            raise ConnectionLost("the connection is closed")
        return self.sock

    def _lost(self, exc: OSError, doing: str) -> None:
        self.close()
        if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK) or isinstance(exc, TimeoutError):
            raise ReplyTimeout(
                f"no progress {doing} for {self.reply_timeout:g} s (SR_CMD_TIMEOUT)"
            ) from None
        raise ConnectionLost(f"{doing} failed: {exc}") from None

    # --- receiving -------------------------------------------------------------------------
    def recv_into(self, target: memoryview) -> int:
        """Read some bytes into ``target``; at least one, or :class:`ConnectionLost`."""
        try:
            count = self._socket().recv_into(target)
        except OSError as exc:
            self._lost(exc, "waiting for the reply")
        if count == 0:
            self.close()
            raise ConnectionLost("the server closed the connection")
        return count

    def read_reply(self) -> Any:
        """The next reply (an error reply is returned as a :class:`ServerError`)."""
        reply = self.reader.gets()
        while reply is False:
            count = self.recv_into(self.view)
            self.reader.feed(self.buffer, 0, count)  # type: ignore[arg-type]
            reply = self.reader.gets()
        return reply

    # --- commands ----------------------------------------------------------------------------
    def call(self, *args: Arg) -> Any:
        """Send one command and return its reply (``ServerError`` instances are returned)."""
        parts: list[bytes | memoryview] = []
        pack(args, parts)
        self.send(parts)
        return self.read_reply()

    def pipeline(self, commands: Sequence[Sequence[Arg]]) -> list[Any]:
        """Send every command, then read every reply (errors returned in place)."""
        parts: list[bytes | memoryview] = []
        for command in commands:
            pack(command, parts)
        self.send(parts)
        return [self.read_reply() for _ in commands]
