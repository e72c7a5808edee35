"""``DatasetConverter``: describe a Dataset's tensors as xarray DataArrays, and rebuild them.

The description is metadata strings, SmartRedis's: ``_xarray_data_names`` lists the
data variables; for each variable ``v``, ``_xarray_v_dim_names``,
``_xarray_v_coord_names`` and ``_xarray_v_attr_names`` hold comma-separated names
of string fields (dimension names, attributes) and of coordinate variables, or
``null``. xarray is optional: only :meth:`transform_to_xarray` needs it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from itertools import permutations
from typing import Any, TypeVar

from .checks import typecheck
from .dataset import Dataset
from .error import RedisRuntimeError

F = TypeVar("F", bound=Callable[..., Any])
NULL = "null"


def _requires_xarray(func: F) -> F:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            import xarray  # noqa: F401
        except ImportError:
            raise RedisRuntimeError(
                "Optional package xarray must be installed; consider running "
                "`pip install xarray`"
            ) from None
        return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _string_list(names: object, label: str, item: str) -> list[str]:
    typecheck(names, label, list)
    for name in names:  # type: ignore[attr-defined]
        typecheck(name, item, str)
    return [str(name) for name in names]  # type: ignore[attr-defined]


def _listed(dataset: Dataset, variable: str, kind: str) -> list[str]:
    """The names in ``_xarray_<variable>_<kind>_names`` (none for ``null``)."""
    names = dataset.get_meta_strings(f"_xarray_{variable}_{kind}_names")[0]
    return [] if names == NULL else names.split(",")


def _first(dataset: Dataset, field: str) -> str:
    return dataset.get_meta_strings(field)[0]


class DatasetConverter:
    """Static helpers between Datasets and xarray DataArrays."""

    @staticmethod
    def add_metadata_for_xarray(
        dataset: Dataset,
        data_names: list[str] | str,
        dim_names: list[str] | str,
        coord_names: list[str] | str | None = None,
        attr_names: list[str] | str | None = None,
    ) -> None:
        """Record which tensors are data variables and which fields describe them."""
        data, dims, coords, attrs = (
            [names] if isinstance(names, str) else names
            for names in (data_names, dim_names, coord_names, attr_names)
        )
        typecheck(dataset, "dataset", Dataset)
        _string_list(data, "data_names", "data_name")
        _string_list(dims, "dim_names", "dim_name")
        if coords:
            _string_list(coords, "coord_names", "coord_name")
        if attrs:
            _string_list(attrs, "attr_names", "attr_name")
        for name in data:  # type: ignore[union-attr]
            dataset.add_meta_string("_xarray_data_names", name)
            for names, kind in ((dims, "dim"), (coords, "coord"), (attrs, "attr")):
                text = ",".join(names) if isinstance(names, list) else NULL
                dataset.add_meta_string(f"_xarray_{name}_{kind}_names", text)

    @staticmethod
    @_requires_xarray
    def transform_to_xarray(dataset: Dataset) -> dict[str, Any]:
        """``{variable: xarray.DataArray}`` for each data variable (coordinates attached)."""
        import xarray

        typecheck(dataset, "dataset", Dataset)
        variables = dataset.get_meta_strings("_xarray_data_names")
        coords: dict[str, dict[str, Any]] = {}
        for variable, other in list(permutations(variables, 2)):
            if other in _listed(dataset, variable, "coord"):
                if other in variables:
                    variables.remove(other)  # a coordinate, not a data variable
                coords.setdefault(variable, {})[other] = (
                    [_first(dataset, field) for field in _listed(dataset, other, "dim")],
                    dataset.get_tensor(other),
                    {field: _first(dataset, field) for field in _listed(dataset, other, "attr")},
                )
        return {
            variable: xarray.DataArray(
                name=variable,
                data=dataset.get_tensor(variable),
                coords=coords.get(variable),
                dims=[_first(dataset, field) for field in _listed(dataset, variable, "dim")],
                attrs={field: _first(dataset, field)
                       for field in _listed(dataset, variable, "attr")},
            )
            for variable in variables
        }
