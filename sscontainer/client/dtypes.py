"""Tensor and metadata types: numpy <-> RedisAI's type names <-> SmartRedis's numpy types."""

from __future__ import annotations

from typing import Any

import numpy as np

from .error import ArgumentTypeError

# numpy dtype name -> RedisAI type name (the 8 types SmartRedis sends)
TENSOR_TYPES: dict[str, str] = {
    "float64": "DOUBLE", "float32": "FLOAT", "uint8": "UINT8", "uint16": "UINT16",
    "int8": "INT8", "int16": "INT16", "int32": "INT32", "int64": "INT64",
}
# RedisAI type name -> numpy dtype of a tensor read back (host byte order)
NUMPY_OF_WIRE: dict[str, np.dtype[Any]] = {
    wire: np.dtype(name) for name, wire in TENSOR_TYPES.items()
}
WIRE_OF_NUMPY: dict[np.dtype[Any], str] = {
    np.dtype(name): wire for name, wire in TENSOR_TYPES.items()
}
# numpy dtype name -> metadata type name (SmartRedis's add_meta_scalar types)
METADATA_TYPES: dict[str, str] = {
    "float64": "DOUBLE", "float32": "FLOAT", "uint32": "UINT32", "uint64": "UINT64",
    "int32": "INT32", "int64": "INT64",
}
# type name -> numpy type, as Dataset.get_tensor_type / get_metadata_field_type return
# (SmartRedis 0.6.1 maps FLOAT to np.float64 and cannot name UINT16: both fixed here)
NUMPY_TYPE_OF_NAME: dict[str, type] = {
    "DOUBLE": np.double, "FLOAT": np.float32, "UINT8": np.uint8, "UINT16": np.uint16,
    "UINT32": np.uint32, "UINT64": np.uint64, "INT8": np.int8, "INT16": np.int16,
    "INT32": np.int32, "INT64": np.int64, "STRING": str,
}


def tensor_type(array: np.ndarray[Any, Any]) -> str:
    """The RedisAI type name of ``array``; ``TypeError`` for any other dtype."""
    wire = WIRE_OF_NUMPY.get(array.dtype)
    if wire is None:
        # a non-native byte order of a supported type is sent in host order
        wire = TENSOR_TYPES.get(str(array.dtype.newbyteorder("=")))
        if wire is None or array.dtype.kind not in "fiu":
            raise ArgumentTypeError(
                f"Incompatible tensor type provided {array.dtype}: use one of "
                f"{', '.join(TENSOR_TYPES)}"
            )
    return wire


def metadata_type(array: np.ndarray[Any, Any]) -> str:
    """The metadata type name of a scalar (as a 0-d array); ``TypeError`` otherwise."""
    wire = METADATA_TYPES.get(str(array.dtype))
    if wire is None:
        raise ArgumentTypeError(
            f"Incompatible metadata type provided {array.dtype}: use an int, a float or a "
            f"numpy scalar of {', '.join(METADATA_TYPES)}"
        )
    return wire


def numpy_type(type_name: str) -> type:
    try:
        return NUMPY_TYPE_OF_NAME[type_name]
    except KeyError:
        raise ArgumentTypeError(f"Unrecognized type name {type_name}") from None
