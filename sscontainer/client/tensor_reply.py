"""Tensors on the wire: ``AI.TENSORSET`` arguments and ``AI.TENSORGET`` replies.

A ``AI.TENSORGET <key> META BLOB`` reply is ``[dtype, <type>, shape, [d1..dn], blob,
<bytes>]``. :func:`read_tensor` parses its small header itself and then receives the
blob straight into the array it becomes (the caller's, for ``unpack_tensor``): the
bytes are copied once, from the kernel, and the array is writable, as SmartRedis's.
Anything else (an error reply, another shape) goes through hiredis as usual.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from math import prod
from typing import Any

import numpy as np

from .dtypes import NUMPY_OF_WIRE, WIRE_OF_NUMPY, tensor_type
from .error import RedisInternalError, RedisRuntimeError
from .wire import Arg, Connection, ServerError, pack

_CRLF = b"\r\n"


def tensorset_args(key: bytes | str, array: np.ndarray[Any, Any]) -> list[Arg]:
    """``AI.TENSORSET key TYPE d1 .. dn BLOB <bytes>``, the bytes in C order, host order."""
    wire = tensor_type(array)
    if array.dtype not in WIRE_OF_NUMPY:  # byte-swapped: send it in host order
        array = array.astype(NUMPY_OF_WIRE[wire])
    if not array.flags.c_contiguous:
        array = np.ascontiguousarray(array)
    blob: Arg = array.tobytes() if array.nbytes < 16384 else array.data.cast("B")
    return ["AI.TENSORSET", key, wire, *array.shape, "BLOB", blob]


def tensorget_args(key: bytes | str) -> tuple[Arg, ...]:
    """``AI.TENSORGET key META BLOB``: the tensor's type, shape and bytes in one reply."""
    return ("AI.TENSORGET", key, "META", "BLOB")


def check_dims(dims: list[int]) -> None:
    if not dims:
        raise RedisRuntimeError("The number of dimensions of the fetched tensor are invalid: 0")
    for index, dim in enumerate(dims):
        if dim <= 0:
            raise RedisRuntimeError(
                f"Dimension {index} of the fetched tensor is not valid: {dim}"
            )


def _validated(wire: Any, raw_dims: Sequence[Any], size: Callable[[], int]
               ) -> tuple[np.dtype[Any], list[int]]:
    """The dtype and shape of a tensor of type ``wire`` and shape ``raw_dims`` whose
    data is ``size()`` bytes, or the error saying what does not fit. Checked in this
    order: type, shape, then the size (asked last: decode's blob may be any reply)."""
    dtype = NUMPY_OF_WIRE.get(bytes(wire).decode(errors="replace"))
    if dtype is None:
        raise RedisInternalError(f"the database sent an unknown tensor type {wire!r}")
    dims = [int(d) for d in raw_dims]
    check_dims(dims)
    have, need = size(), prod(dims) * dtype.itemsize
    if have != need:
        raise RedisInternalError(
            f"the tensor's data has {have} bytes, not the {need} its type and shape need"
        )
    return dtype, dims


def decode(reply: Any) -> np.ndarray[Any, Any]:
    """A writable array from a TENSORGET reply parsed by hiredis (pipelines, datasets)."""
    if isinstance(reply, ServerError):
        raise RedisRuntimeError(f"Redis error when executing command: {reply}")
    if not isinstance(reply, list) or len(reply) < 6 or not isinstance(reply[3], list):
        raise RedisInternalError(f"unexpected reply to AI.TENSORGET: {str(reply)[:200]}")
    blob = reply[5]
    dtype, dims = _validated(reply[1], reply[3], lambda: len(blob))
    array = np.empty(dims, dtype)
    array.data.cast("B")[:] = blob
    return array


class _NotATensor(Exception):
    """The reply is not a META BLOB tensor reply: hiredis parses it instead."""


def _element(buf: bytearray, pos: int, end: int, depth: int = 0) -> tuple[Any, int] | None:
    """One RESP element at ``pos``: ``(value, next pos)``, or None when incomplete."""
    eol = buf.find(_CRLF, pos, end)
    if eol < 0:
        return None
    kind, text = buf[pos], bytes(buf[pos + 1:eol])
    if kind == 0x3A and depth == 1:  # ':' (a dimension)
        return int(text), eol + 2
    if kind == 0x24 and depth == 0:  # '$'
        size = int(text)
        if size < 0:
            raise _NotATensor
        if eol + 2 + size + 2 > end:
            return None
        return bytes(buf[eol + 2:eol + 2 + size]), eol + 2 + size + 2
    if kind == 0x2A and depth == 0:  # '*' (the shape)
        values = []
        pos = eol + 2
        for _ in range(int(text)):
            item = _element(buf, pos, end, 1)
            if item is None:
                return None
            values.append(item[0])
            pos = item[1]
        return values, pos
    raise _NotATensor


def _header(buf: bytearray, end: int) -> tuple[bytes, list[int], int, int] | None:
    """``(type, dims, blob start, blob size)``, or None while incomplete."""
    if end < 4:
        return None
    if not buf.startswith(b"*6\r\n"):
        raise _NotATensor
    pos, items = 4, []
    for _ in range(5):
        item = _element(buf, pos, end)
        if item is None:
            return None
        items.append(item[0])
        pos = item[1]
    if not isinstance(items[1], bytes) or not isinstance(items[3], list):
        raise _NotATensor
    eol = buf.find(_CRLF, pos, end)
    if eol < 0:
        return None
    if buf[pos] != 0x24:
        raise _NotATensor
    return items[1], items[3], eol + 2, int(buf[pos + 1:eol])


def _receive_header(conn: Connection) -> tuple[tuple[bytes, list[int], int, int] | None, int]:
    """Receive until the header is complete; None (and what was read) when not a tensor."""
    end = conn.recv_into(conn.view)
    while True:
        try:
            header = _header(conn.buffer, end)
        except (_NotATensor, ValueError):
            return None, end  # an error reply or another shape: hiredis parses it
        if header is not None or end == len(conn.buffer):
            return header, end
        end += conn.recv_into(conn.view[end:])


def read_tensor(conn: Connection, into: np.ndarray[Any, Any] | None = None) -> Any:
    """The tensor of a TENSORGET reply: a new array, ``into`` when its dtype and size
    match, or a :class:`ServerError` / other hiredis reply when it is not a tensor."""
    if conn.reader.has_data():
        return conn.read_reply()  # never the case in request/reply order; be safe anyway
    header, end = _receive_header(conn)
    if header is None:
        conn.reader.feed(conn.buffer, 0, end)  # type: ignore[arg-type]
        return conn.read_reply()
    wire, dims, start, size = header
    error: RedisInternalError | RedisRuntimeError | None = None
    try:
        dtype, dims = _validated(wire, dims, lambda: size)
    except (RedisInternalError, RedisRuntimeError) as exc:
        error = exc
    if error is None and into is not None and into.dtype == dtype and into.nbytes == size \
            and into.flags.c_contiguous and into.flags.writeable:
        target = into
    elif error is None:
        target = np.empty(dims, dtype)
    else:
        target = np.empty(size, np.uint8)  # read past it, then report what was wrong
    sink = target.data.cast("B")
    have = min(end - start, size)
    sink[:have] = conn.view[start:start + have]
    while have < size:
        have += conn.recv_into(sink[have:])
    tail = end - start - size  # bytes after the blob already read: its CRLF, maybe more
    if tail > 2:  # a reply that followed (pipelining): hiredis keeps it for later
        conn.reader.feed(conn.buffer, start + size + 2, tail - 2)  # type: ignore[arg-type]
    elif tail < 2:
        crlf = memoryview(bytearray(2))
        done = max(tail, 0)
        while done < 2:
            done += conn.recv_into(crlf[done:])
    if error is not None:
        raise error
    return target


def fetch_tensor(conn: Connection, key: bytes | str,
                 into: np.ndarray[Any, Any] | None = None) -> Any:
    """Send ``AI.TENSORGET key META BLOB`` on ``conn`` and read its reply with
    :func:`read_tensor` (both backends' ``tensor``)."""
    parts: list[bytes | memoryview] = []
    pack(tensorget_args(key), parts)
    conn.send(parts)
    return read_tensor(conn, into)
