"""``Dataset``: named tensors plus metadata, stored together (SmartRedis's DataSet).

Stored as a hash ``prefix.{name}.meta`` (tensor names, metadata fields and an
acknowledgement field written last) and one tensor key per tensor,
``prefix.{name}.tensor``; the ``{name}`` hash tag keeps them in one cluster slot.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import ClientError, SSConfigError
from .keys import check_dataset_name, check_name
from .tensor_codec import as_tensor, dtype_name

ACK_FIELD = ".ack"
TENSORS_FIELD = ".tensors"
META_PREFIX = "meta:"
SCALAR_TYPES = ("float64", "float32", "int64", "int32", "uint64", "uint32")
STRING_TYPE = "string"


def _scalar_type(data: object) -> str:
    if isinstance(data, (bool, np.bool_)):
        raise SSConfigError("metadata scalars must be numbers, not booleans")
    if isinstance(data, np.generic):
        name = data.dtype.name
        if name in SCALAR_TYPES:
            return name
    elif isinstance(data, int):
        return "int64"
    elif isinstance(data, float):
        return "float64"
    raise SSConfigError(
        f"metadata scalar {data!r} ({type(data).__name__}) is not supported: use an int, a "
        f"float or a numpy scalar of {', '.join(SCALAR_TYPES)}"
    )


class Dataset:
    """Tensors and metadata that travel together under one name."""

    def __init__(self, name: str) -> None:
        self._name = check_dataset_name(name)
        self._tensors: dict[str, np.ndarray[Any, Any]] = {}
        self._meta: dict[str, tuple[str, list[Any]]] = {}

    @property
    def name(self) -> str:
        return self._name

    def get_name(self) -> str:
        return self._name

    def __str__(self) -> str:
        return (
            f"Dataset({self._name!r}, tensors={list(self._tensors)}, metadata={list(self._meta)})"
        )

    # --- tensors ---------------------------------------------------------------
    def add_tensor(self, name: str, data: np.ndarray[Any, Any]) -> None:
        """Add a copy of ``data`` (later changes to ``data`` do not affect the dataset)."""
        check_name(name, "dataset tensor name")
        array = as_tensor(data, f"dataset tensor {name!r}")
        self._tensors[name] = np.array(array, copy=True, order="C")

    def get_tensor(self, name: str) -> np.ndarray[Any, Any]:
        try:
            return self._tensors[name]
        except KeyError:
            raise ClientError(
                f"dataset {self._name!r} has no tensor {name!r}; it has: "
                f"{', '.join(self._tensors) or 'none'}"
            ) from None

    def get_tensor_names(self) -> list[str]:
        return list(self._tensors)

    def get_tensor_type(self, name: str) -> str:
        return dtype_name(self.get_tensor(name).dtype)

    def get_tensor_dims(self, name: str) -> list[int]:
        return list(self.get_tensor(name).shape)

    # --- metadata ----------------------------------------------------------------
    def _field(self, name: str, kind: str) -> list[Any]:
        check_name(name, "metadata field name")
        existing = self._meta.get(name)
        if existing is None:
            values: list[Any] = []
            self._meta[name] = (kind, values)
            return values
        if existing[0] != kind:
            raise SSConfigError(
                f"metadata field {name!r} holds {existing[0]} values; cannot add a {kind}"
            )
        return existing[1]

    def add_meta_scalar(self, name: str, data: int | float | np.generic) -> None:
        """Append a number to metadata field ``name`` (one numeric type per field)."""
        kind = _scalar_type(data)
        self._field(name, kind).append(data.item() if isinstance(data, np.generic) else data)

    def add_meta_string(self, name: str, data: str) -> None:
        if not isinstance(data, str):
            raise SSConfigError(f"metadata string for {name!r} must be a str, got {data!r}")
        self._field(name, STRING_TYPE).append(data)

    def _values(self, name: str) -> tuple[str, list[Any]]:
        try:
            return self._meta[name]
        except KeyError:
            raise ClientError(
                f"dataset {self._name!r} has no metadata field {name!r}; it has: "
                f"{', '.join(self._meta) or 'none'}"
            ) from None

    def get_meta_scalars(self, name: str) -> np.ndarray[Any, Any]:
        kind, values = self._values(name)
        if kind == STRING_TYPE:
            raise ClientError(f"metadata field {name!r} holds strings: use get_meta_strings")
        return np.array(values, dtype=kind)

    def get_meta_strings(self, name: str) -> list[str]:
        kind, values = self._values(name)
        if kind != STRING_TYPE:
            raise ClientError(f"metadata field {name!r} holds {kind} scalars: use get_meta_scalars")
        return list(values)

    def get_metadata_field_names(self) -> list[str]:
        return list(self._meta)

    def get_metadata_field_type(self, name: str) -> str:
        return self._values(name)[0]

    # --- storage (used by the client) ---------------------------------------------
    def meta_fields(self) -> dict[str, str]:
        """The hash fields describing this dataset (without the acknowledgement)."""
        if not self._tensors and not self._meta:
            raise ClientError(
                f"dataset {self._name!r} is empty: add a tensor or a metadata field first"
            )
        fields = {TENSORS_FIELD: json.dumps(list(self._tensors))}
        for name, (kind, values) in self._meta.items():
            fields[META_PREFIX + name] = json.dumps({"type": kind, "values": values})
        return fields

    def tensors(self) -> Mapping[str, np.ndarray[Any, Any]]:
        return self._tensors

    @classmethod
    def from_meta(cls, name: str, fields: Mapping[bytes, bytes]) -> tuple[Dataset, list[str]]:
        """Rebuild the metadata part; returns the dataset and its tensor names."""
        dataset = cls(name)
        tensor_names: list[str] = []
        try:
            for raw_key, raw_value in fields.items():
                key = raw_key.decode()
                if key == TENSORS_FIELD:
                    tensor_names = list(json.loads(raw_value))
                elif key.startswith(META_PREFIX):
                    entry = json.loads(raw_value)
                    dataset._meta[key[len(META_PREFIX):]] = (
                        str(entry["type"]), list(entry["values"])
                    )
        except (ValueError, KeyError, TypeError) as exc:
            raise ClientError(f"dataset {name!r} has corrupt metadata: {exc}") from exc
        return dataset, tensor_names

    def _set_tensor(self, name: str, data: np.ndarray[Any, Any]) -> None:
        self._tensors[name] = data
