"""``Dataset``: named tensors and metadata stored and fetched together (SmartRedis's)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .checks import api, typecheck
from .dtypes import metadata_type, numpy_type, tensor_type
from .error import RedisInternalError, RedisKeyError, RedisRuntimeError
from .metadata import ACK_FIELD, TENSOR_NAMES, Field, deserialize
from .srobject import SRObject


class MissingTensorError(RedisKeyError, RedisInternalError):
    """A dataset has no tensor of that name (SmartRedis raises RedisInternalError for
    ``get_tensor_type``/``get_tensor_dims`` and RedisKeyError elsewhere: both catch it)."""


class Dataset(SRObject):
    """Tensors and metadata that travel together under one name."""

    def __init__(self, name: str) -> None:
        typecheck(name, "name", str)
        super().__init__(name)
        self._tensors: dict[str, np.ndarray[Any, Any]] = {}
        self._fields: dict[str, Field] = {}

    def __str__(self) -> str:
        lines = [f"DataSet ({self._name}):", "Tensors:"]
        for name, array in self._tensors.items():
            lines += [f"  {name}:", f"    type: {tensor_type(array)}",
                      f"    dimensions: {list(array.shape)}", f"    elements: {array.size}"]
        if not self._tensors:
            lines.append("  none")
        lines.append("Metadata:")
        names = self.get_metadata_field_names()
        for name in names:
            lines += [f"  {name}:", f"    type: {self._fields[name].type_name}"]
        if not names:
            lines.append("  none")
        return "\n".join(lines) + "\n"

    # --- tensors --------------------------------------------------------------------------
    @api
    def add_tensor(self, name: str, data: np.ndarray[Any, Any]) -> None:
        """Add a copy of ``data`` as tensor ``name``."""
        typecheck(name, "name", str)
        typecheck(data, "data", np.ndarray)
        tensor_type(data)  # TypeError for an unsupported dtype
        if name in self._tensors:
            raise RedisRuntimeError(f"The tensor {name} already exists")
        check_tensor(name, data)
        names = self._fields.get(TENSOR_NAMES)
        if names is not None and names.type_name != "STRING":
            raise RedisRuntimeError("The metadata field isn't a string type.")
        self._tensors[name] = np.array(data, order="C", copy=True)
        self._fields.setdefault(TENSOR_NAMES, Field("STRING")).values.append(name)

    def _tensor(self, name: str) -> np.ndarray[Any, Any]:
        try:
            return self._tensors[name]
        except KeyError:
            raise MissingTensorError(
                f'The tensor "{name}" does not exist in dataset "{self._name}" (it has: '
                f"{', '.join(self._tensors) or 'no tensors'})."
            ) from None

    @api
    def get_tensor(self, name: str) -> np.ndarray[Any, Any]:
        """A copy of tensor ``name``."""
        typecheck(name, "name", str)
        return self._tensor(name).copy()

    @api
    def get_name(self) -> str:
        return self._name

    @api
    def get_tensor_names(self) -> list[str]:
        """The tensor names, in the order they were added."""
        return list(self._tensors)

    @api
    def get_tensor_type(self, name: str) -> type:
        """The numpy type of tensor ``name`` (``np.float32``, ``np.int64``...)."""
        typecheck(name, "name", str)
        return numpy_type(tensor_type(self._tensor(name)))

    @api
    def get_tensor_dims(self, name: str) -> list[int]:
        typecheck(name, "name", str)
        return list(self._tensor(name).shape)

    # --- metadata ---------------------------------------------------------------------------
    @api
    def add_meta_scalar(self, name: str, data: int | float) -> None:
        """Append a number to field ``name`` (int -> INT64, float -> DOUBLE; numpy
        scalars keep their type: float32/64, int32/64, uint32/64)."""
        typecheck(name, "name", str)
        value = np.asarray(data)
        if value.size > 1:
            raise TypeError("Argument provided is not a scalar")
        type_name = metadata_type(value)
        self._append(name, type_name, value.item())

    @api
    def add_meta_string(self, name: str, data: str) -> None:
        """Append a string to field ``name``."""
        typecheck(name, "name", str)
        typecheck(data, "data", str)
        self._append(name, "STRING", data)

    def _append(self, name: str, type_name: str, value: Any) -> None:
        existing = self._fields.get(name)
        if existing is None:
            self._fields[name] = Field(type_name, [value])
        elif existing.type_name != type_name:
            raise RedisRuntimeError(
                "The metadata field isn't a string type." if type_name == "STRING" else
                f"The existing metadata field has a different type ({existing.type_name}, "
                f"not {type_name})."
            )
        else:
            existing.values.append(value)

    def _field(self, name: str) -> Field:
        try:
            return self._fields[name]
        except KeyError:
            raise RedisRuntimeError(f"The metadata field {name} does not exist.") from None

    @api
    def get_meta_scalars(self, name: str) -> np.ndarray[Any, Any]:
        """The numbers of field ``name`` as a numpy array of the field's type."""
        typecheck(name, "name", str)
        found = self._field(name)
        if found.type_name == "STRING":
            raise RedisRuntimeError(
                f"MetaData.get_scalar_values() requested invalid MetaDataType: field {name} "
                "holds strings (use get_meta_strings)."
            )
        return np.array(found.values, numpy_type(found.type_name))

    @api
    def get_meta_strings(self, name: str) -> list[str]:
        typecheck(name, "name", str)
        found = self._field(name)
        if found.type_name != "STRING":
            raise RedisRuntimeError(
                f"The metadata field {name} is not a string field (use get_meta_scalars)."
            )
        return list(found.values)

    @api
    def get_metadata_field_names(self) -> list[str]:
        return [name for name in self._fields if name != TENSOR_NAMES]

    @api
    def get_metadata_field_type(self, name: str) -> type:
        """The numpy type of field ``name`` (``str`` for strings)."""
        typecheck(name, "name", str)
        if name not in self._fields:
            raise RedisKeyError(f"Dataset {self._name} does not contain the field {name}")
        return numpy_type(self._fields[name].type_name)

    # --- what the Client stores and reads --------------------------------------------------
    def serialized_fields(self) -> list[tuple[str, bytes]]:
        """``(field, typed buffer)`` for the ``.meta`` hash (``.tensor_names`` included)."""
        if not self._fields:
            raise RedisRuntimeError(
                "An attempt was made to put a DataSet into the database that does not "
                "contain any fields or tensors."
            )
        return [(name, found.serialize()) for name, found in self._fields.items()]

    def tensors(self) -> dict[str, np.ndarray[Any, Any]]:
        return self._tensors

    @classmethod
    def from_fields(cls, name: str, pairs: Iterable[tuple[bytes, bytes]]) -> Dataset:
        """The metadata part of a stored dataset (tensors are added with ``_set_tensor``)."""
        dataset = cls(name)
        for raw_name, buffer in pairs:
            field_name = raw_name.decode(errors="surrogateescape")
            if field_name == ACK_FIELD:
                continue
            if field_name in dataset._fields:
                raise RedisRuntimeError("Cannot add serialized field if already exists.")
            dataset._fields[field_name] = deserialize(buffer)
        return dataset

    def stored_tensor_names(self) -> list[str]:
        names = self._fields.get(TENSOR_NAMES)
        return list(names.values) if names is not None and names.type_name == "STRING" else []

    def _set_tensor(self, name: str, array: np.ndarray[Any, Any]) -> None:
        self._tensors[name] = array


def check_tensor(name: str, data: np.ndarray[Any, Any]) -> None:
    """SmartRedis's checks on a tensor before it is stored or added to a dataset."""
    if not name:
        raise RedisRuntimeError("A name must be provided for the tensor")
    if name == ".meta":
        raise RedisRuntimeError(".meta is an internally reserved name that is not allowed.")
    if data.ndim == 0:
        raise RedisRuntimeError(
            "Must provide a dimensions vector with at least one dimension (a 0-d array "
            "is not a tensor: use numpy.atleast_1d)."
        )
    if 0 in data.shape:
        raise RedisRuntimeError("All tensor dimensions must be positive.")
