"""Dataset metadata buffers: byte for byte what SmartRedis 0.6.1 writes."""

from __future__ import annotations

import numpy as np
import pytest

from sscontainer.client.error import RedisRuntimeError
from sscontainer.client.metadata import Field, deserialize

# live captures in shared/reference/redisai-wire.md §4.2
CAPTURES = [
    (Field("INT32", [7, 8]), "03" "07000000" "08000000"),
    (Field("DOUBLE", [2.5]), "01" "0000000000000440"),
    (Field("STRING", ["hello", "wo"]), "07" "0500000000000000" "68656c6c6f" "0200000000000000" "776f"),
    (Field("STRING", ["a", "b"]), "07" "0100000000000000" "61" "0100000000000000" "62"),
]


@pytest.mark.parametrize(("field", "hex_bytes"), CAPTURES)
def test_buffers_match_smartredis(field: Field, hex_bytes: str) -> None:
    assert field.serialize().hex() == hex_bytes
    assert deserialize(bytes.fromhex(hex_bytes)) == field


@pytest.mark.parametrize("type_name", ["DOUBLE", "FLOAT", "INT32", "INT64", "UINT32", "UINT64"])
def test_every_scalar_type_round_trips(type_name: str) -> None:
    values = [0, 1, 5] if type_name.startswith("U") else [-3, 0, 7]
    restored = deserialize(Field(type_name, values).serialize())
    assert restored.type_name == type_name
    assert np.array_equal(restored.values, values)


@pytest.mark.parametrize("bad", ["", "09", "0300", "07" "0500000000000000" "6865", "07" "05"])
def test_malformed_buffers_are_refused(bad: str) -> None:
    with pytest.raises(RedisRuntimeError):
        deserialize(bytes.fromhex(bad))
