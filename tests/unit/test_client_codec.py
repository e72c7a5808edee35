"""Tensor encoding: one header + raw little-endian bytes, decoded without copies."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from sscontainer.client.tensor_codec import DTYPES, MAGIC, as_tensor, decode, encode
from sscontainer.errors import ClientError, SSConfigError

SHAPES = [(), (1,), (7,), (2, 3), (2, 3, 4), (0,), (3, 0, 2)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_round_trip(dtype: str, shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(1)
    data = (rng.random(shape) * 100).astype(dtype)
    out = decode(encode(as_tensor(data)), "k")
    assert out.dtype == np.dtype(dtype)
    assert out.shape == shape
    assert np.array_equal(out, data)


def test_layout_is_header_then_little_endian_bytes() -> None:
    data = np.array([[1, 2, 3], [4, 5, 6]], dtype=">i4")  # big-endian input
    value = encode(data)
    assert value[:4] == MAGIC
    ndim = value[6]
    assert ndim == 2
    assert struct.unpack_from("<2Q", value, 8) == (2, 3)
    assert value[24:] == np.arange(1, 7, dtype="<i4").tobytes()


def test_non_contiguous_and_fortran_inputs_keep_c_order() -> None:
    base = np.arange(24, dtype=np.float64).reshape(4, 6)
    for view in (base[:, ::2], base.T, np.asfortranarray(base), base[::-1]):
        out = decode(encode(view), "k")
        assert np.array_equal(out, view)
        assert out.flags.c_contiguous


def test_decode_is_a_zero_copy_read_only_view() -> None:
    value = encode(np.arange(10, dtype=np.int16))
    out = decode(value, "k")
    assert not out.flags.writeable
    assert out.base is not None


def test_input_array_is_never_modified() -> None:
    data = np.arange(6, dtype=">f8")
    before = data.copy()
    encode(data)
    assert data.dtype == np.dtype(">f8") and np.array_equal(data, before)


@pytest.mark.parametrize(
    "data",
    [
        np.array([1 + 2j]), np.array([True]), np.zeros(2, np.float16), np.zeros(2, np.uint32),
        np.zeros(2, np.uint64), np.array(["a"]), np.array([object()]),
    ],
)
def test_unsupported_dtypes_name_the_allowed_ones(data: np.ndarray) -> None:
    with pytest.raises(SSConfigError) as info:
        as_tensor(data)
    assert "float64, float32, int64, int32, int16, int8, uint16, uint8" in str(info.value)


def test_non_arrays_are_refused_and_numpy_scalars_accepted() -> None:
    with pytest.raises(SSConfigError, match="numpy.ndarray"):
        as_tensor([1, 2, 3])
    assert as_tensor(np.float32(2.5)).shape == ()


@pytest.mark.parametrize(
    "value, fragment",
    [
        (b"", "too short"),
        (b"XXXX\x01\x00\x00\x00", "does not hold a tensor written by this client"),
        (MAGIC + b"\x09\x00\x00\x00", "format version 9"),
        (MAGIC + b"\x01\x63\x00\x00", "corrupt header"),
        (MAGIC + b"\x01\x00\x02\x00" + b"\x00" * 8, "truncated header"),
        (MAGIC + b"\x01\x00\x01\x00" + struct.pack("<Q", 3) + b"\x00" * 8, "corrupt"),
    ],
)
def test_corrupt_values_are_client_errors(value: bytes, fragment: str) -> None:
    with pytest.raises(ClientError, match=fragment):
        decode(value, "k")
