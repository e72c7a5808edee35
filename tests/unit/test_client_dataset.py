"""Dataset: tensors and metadata held locally before put_dataset."""

from __future__ import annotations

import numpy as np
import pytest

from sscontainer.client import DataSet, Dataset
from sscontainer.errors import ClientError, InvalidNameError, SSConfigError


def test_tensors_are_copied_on_add() -> None:
    ds = Dataset("ds")
    data = np.arange(6, dtype=np.int32).reshape(2, 3)
    ds.add_tensor("x", data)
    data[0, 0] = 99
    assert ds.get_tensor("x")[0, 0] == 0
    assert ds.get_tensor_names() == ["x"]
    assert ds.get_tensor_type("x") == "int32"
    assert ds.get_tensor_dims("x") == [2, 3]
    assert ds.name == ds.get_name() == "ds"
    assert DataSet is Dataset


def test_metadata_scalars_and_strings() -> None:
    ds = Dataset("ds")
    ds.add_meta_scalar("time", 1.5)
    ds.add_meta_scalar("time", 2.5)
    ds.add_meta_scalar("step", np.int32(3))
    ds.add_meta_string("who", "producer")
    ds.add_meta_string("who", "again")
    times = ds.get_meta_scalars("time")
    assert times.dtype == np.float64 and list(times) == [1.5, 2.5]
    step = ds.get_meta_scalars("step")
    assert step.dtype == np.int32 and list(step) == [3]
    assert ds.get_meta_strings("who") == ["producer", "again"]
    assert set(ds.get_metadata_field_names()) == {"time", "step", "who"}
    assert ds.get_metadata_field_type("step") == "int32"


def test_metadata_type_errors() -> None:
    ds = Dataset("ds")
    ds.add_meta_scalar("n", 1)
    with pytest.raises(SSConfigError, match="holds int64"):
        ds.add_meta_scalar("n", 1.0)
    with pytest.raises(SSConfigError, match="holds int64"):
        ds.add_meta_string("n", "x")
    with pytest.raises(SSConfigError, match="not booleans"):
        ds.add_meta_scalar("b", True)
    with pytest.raises(SSConfigError, match="not supported"):
        ds.add_meta_scalar("c", np.float16(1))
    with pytest.raises(SSConfigError, match="must be a str"):
        ds.add_meta_string("s", 3)  # type: ignore[arg-type]
    with pytest.raises(ClientError, match="use get_meta_scalars"):
        ds.get_meta_strings("n")
    with pytest.raises(ClientError, match="no metadata field 'zz'"):
        ds.get_meta_scalars("zz")
    with pytest.raises(ClientError, match="no tensor 'zz'"):
        ds.get_tensor("zz")


def test_names_and_empty_dataset() -> None:
    with pytest.raises(InvalidNameError):
        Dataset("has space")
    with pytest.raises(InvalidNameError):
        Dataset("a}b")
    with pytest.raises(ClientError, match="is empty"):
        Dataset("empty").meta_fields()
    with pytest.raises(SSConfigError, match="not supported"):
        Dataset("d").add_tensor("x", np.zeros(2, dtype=np.complex64))


def test_meta_serialisation_round_trip() -> None:
    ds = Dataset("ds")
    ds.add_tensor("a", np.zeros(2))
    ds.add_meta_scalar("f", np.float32(0.1))
    ds.add_meta_string("s", "x y")
    fields = {k.encode(): v.encode() for k, v in ds.meta_fields().items()}
    again, tensor_names = Dataset.from_meta("ds", fields)
    assert tensor_names == ["a"]
    assert again.get_meta_scalars("f")[0] == np.float32(0.1)
    assert again.get_meta_scalars("f").dtype == np.float32
    assert again.get_meta_strings("s") == ["x y"]
    with pytest.raises(ClientError, match="corrupt metadata"):
        Dataset.from_meta("ds", {b".tensors": b"{not json"})
