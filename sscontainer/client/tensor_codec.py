"""How a tensor is stored: one value = a small header, then the raw little-endian bytes.

Header (little-endian): magic ``b"SSTN"``, format version (1 byte), dtype code
(1 byte), number of dimensions (1 byte), one reserved byte, then one uint64
per dimension. Decoding is zero-copy: the array is a read-only
``numpy.frombuffer`` view of the reply.
"""

from __future__ import annotations

import struct
import sys
from math import prod
from typing import Any

import numpy as np

from ..errors import ClientError, SSConfigError

MAGIC = b"SSTN"
VERSION = 1
_FIXED = struct.Struct("<4sBBBx")
HEADER_BASE = _FIXED.size
MAX_DIMS = 32

# code -> numpy dtype; the order is the wire format: append only.
DTYPES: tuple[str, ...] = (
    "float64", "float32", "int64", "int32", "int16", "int8", "uint16", "uint8",
)
_WIRE = {code: np.dtype(name).newbyteorder("<") for code, name in enumerate(DTYPES)}
# numpy's (kind, itemsize) identifies a dtype independently of byte order
_CODE = {(np.dtype(name).kind, np.dtype(name).itemsize): code for code, name in enumerate(DTYPES)}
_DIMS_STRUCTS = {n: struct.Struct(f"<{n}Q") for n in range(MAX_DIMS + 1)}
_HEADERS = {n: struct.Struct(f"<4sBBBx{n}Q") for n in range(MAX_DIMS + 1)}
_SMALL = 65_536  # below this, copying twice is cheaper than building a memoryview
_BIG_ENDIAN_HOST = sys.byteorder == "big"
ALLOWED = ", ".join(DTYPES)


def dtype_code(dtype: np.dtype[Any]) -> int:
    """The wire code of ``dtype``; :class:`SSConfigError` naming the allowed dtypes otherwise."""
    code = _CODE.get((dtype.kind, dtype.itemsize))
    if code is None or dtype.kind not in "fiu":
        raise SSConfigError(f"tensor dtype {dtype} is not supported: use one of {ALLOWED}")
    return code


def as_tensor(data: object, what: str = "tensor") -> np.ndarray[Any, Any]:
    """Check ``data`` is a numpy array (or numpy scalar) of a supported dtype."""
    if isinstance(data, np.generic):
        data = np.asarray(data)
    if not isinstance(data, np.ndarray):
        raise SSConfigError(
            f"{what} must be a numpy.ndarray, got {type(data).__name__}: wrap it with "
            f"numpy.asarray(..., dtype=...) using one of {ALLOWED}"
        )
    dtype_code(data.dtype)
    if data.ndim > MAX_DIMS:
        raise SSConfigError(f"{what} has {data.ndim} dimensions: at most {MAX_DIMS} are supported")
    return data


def encode(data: np.ndarray[Any, Any]) -> bytes:
    """Header + C-order little-endian bytes of ``data``; raises like :func:`as_tensor`."""
    if not isinstance(data, np.ndarray):
        data = as_tensor(data)
    dtype = data.dtype
    code = _CODE.get((dtype.kind, dtype.itemsize))
    if code is None or dtype.kind not in "fiu" or data.ndim > MAX_DIMS:
        as_tensor(data)  # raises the explanatory error
        raise AssertionError("unreachable")
    if dtype.byteorder == ">" or (_BIG_ENDIAN_HOST and dtype.byteorder == "="):
        data = data.astype(dtype.newbyteorder("<"))
    shape = data.shape
    header = _HEADERS[len(shape)].pack(MAGIC, VERSION, code, len(shape), *shape)
    if data.nbytes <= _SMALL:
        return header + data.tobytes()  # tobytes() is C order whatever the layout
    flat = np.ascontiguousarray(data).reshape(-1)  # copies only a non-C-contiguous input
    # one copy, straight into the value sent; the caller's array is never modified
    return header + memoryview(flat).cast("B")  # type: ignore[arg-type]


def decode_header(value: bytes, key: str) -> tuple[np.dtype[Any], tuple[int, ...], int]:
    """``(dtype, shape, data offset)`` of a stored tensor; :class:`ClientError` if not one."""
    if len(value) < HEADER_BASE:
        raise ClientError(f"key {key!r} does not hold a tensor (value too short)")
    magic, version, code, ndim = _FIXED.unpack_from(value)
    if magic != MAGIC:
        raise ClientError(f"key {key!r} does not hold a tensor written by this client")
    if version != VERSION:
        raise ClientError(
            f"tensor {key!r} uses format version {version}; this client reads version {VERSION}"
        )
    dtype = _WIRE.get(code)
    if dtype is None or ndim > MAX_DIMS:
        raise ClientError(f"tensor {key!r} has a corrupt header (dtype code {code}, ndim {ndim})")
    offset = HEADER_BASE + 8 * ndim
    if len(value) < offset:
        raise ClientError(f"tensor {key!r} has a truncated header")
    shape: tuple[int, ...] = _DIMS_STRUCTS[ndim].unpack_from(value, HEADER_BASE)
    return dtype, shape, offset


def decode(value: bytes, key: str) -> np.ndarray[Any, Any]:
    """The stored tensor as a read-only array viewing ``value`` (no copy)."""
    dtype, shape, offset = decode_header(value, key)
    if len(value) - offset != prod(shape) * dtype.itemsize:
        raise ClientError(
            f"tensor {key!r} is corrupt: {len(value) - offset} data bytes for shape {shape} "
            f"of {dtype.name}"
        )
    # a read-only view of the reply's bytes: no copy
    return np.ndarray(shape, dtype=dtype, buffer=value, offset=offset)


def dtype_name(dtype: np.dtype[Any]) -> str:
    """``float32`` etc. (byte order dropped)."""
    return DTYPES[dtype_code(dtype)]
