"""Dataset metadata fields and their serialized form (SmartRedis's typed buffers).

A field is stored in the dataset's ``.meta`` hash as one byte of type code and then
its values in host byte order: numbers packed one after another, strings each as
an 8-byte length and its bytes. ``.tensor_names`` (the dataset's tensor names, in
the order they were added) is a string field too.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .dtypes import METADATA_TYPES
from .error import RedisRuntimeError

TENSOR_NAMES = ".tensor_names"
ACK_FIELD = ".COMPLETE"
CODES = {"DOUBLE": 1, "FLOAT": 2, "INT32": 3, "INT64": 4, "UINT32": 5, "UINT64": 6,
         "STRING": 7}
TYPES = {code: name for name, code in CODES.items()}
# metadata type name -> numpy dtype of its values
SCALAR_DTYPES: dict[str, np.dtype[Any]] = {
    name: np.dtype(dtype) for dtype, name in METADATA_TYPES.items()
}
_LENGTH = struct.Struct("=Q")


@dataclass
class Field:
    """One metadata field: a type name and its values (numbers or strings)."""

    type_name: str
    values: list[Any] = field(default_factory=list)

    def serialize(self) -> bytes:
        head = bytes([CODES[self.type_name]])
        if self.type_name == "STRING":
            parts = [head]
            for text in self.values:
                raw = text.encode()
                parts += [_LENGTH.pack(len(raw)), raw]
            return b"".join(parts)
        return head + bytes(np.array(self.values, SCALAR_DTYPES[self.type_name]).tobytes())


def deserialize(buffer: bytes) -> Field:
    """A field from its stored form; ``RedisRuntimeError`` for a malformed buffer."""
    if not buffer:
        raise RedisRuntimeError(
            "The MetadataField type cannot be retrieved from buffer of 0 characters."
        )
    type_name = TYPES.get(buffer[0])
    if type_name is None:
        raise RedisRuntimeError(f"unknown type {buffer[0]} in a dataset metadata field")
    if type_name == "STRING":
        return Field(type_name, _strings(buffer))
    dtype = SCALAR_DTYPES[type_name]
    if (len(buffer) - 1) % dtype.itemsize:
        raise RedisRuntimeError(
            f"The data portion of the provided metadata buffer does not contain the correct "
            f"number of bytes for a {dtype.itemsize} byte scalar type. It contains "
            f"{len(buffer) - 1} bytes"
        )
    return Field(type_name, np.frombuffer(buffer, dtype, offset=1).tolist())


def _strings(buffer: bytes) -> list[str]:
    values, pos = [], 1
    while pos < len(buffer):
        if pos + _LENGTH.size > len(buffer):
            raise RedisRuntimeError("A metadata string field is truncated (its length).")
        (size,) = _LENGTH.unpack_from(buffer, pos)
        pos += _LENGTH.size
        if pos + size > len(buffer):
            raise RedisRuntimeError("A metadata string field is truncated (its text).")
        values.append(buffer[pos:pos + size].decode(errors="surrogateescape"))
        pos += size
    return values
