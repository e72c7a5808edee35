"""Dataset, ConfigOptions and argument checks: the real smartredis 0.6.1 and ours, side by side.

These need no database: SmartRedis's Dataset and ConfigOptions work offline, so every
call is made on both with the same arguments and must agree (results or exception
classes). The differences that remain are SmartRedis bugs, asserted as such below.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import sscontainer.client as ours
from sscontainer.errors import ClientError
from tests.client_diff import require_smartredis, same

DTYPES = ["float64", "float32", "int64", "int32", "int16", "int8", "uint16", "uint8"]


@pytest.fixture(scope="module")
def sr(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return require_smartredis()


def both(sr: Any, name: str = "ds") -> tuple[Any, Any]:
    return sr.Dataset(name), ours.Dataset(name)


def on_both(pair: tuple[Any, Any], action: Callable[[Any], Any]) -> Any:
    return same(lambda: action(pair[0]), lambda: action(pair[1]))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1,), (7,), (2, 3), (2, 3, 4)])
def test_tensors_of_every_type_and_shape(sr: Any, dtype: str, shape: tuple[int, ...]) -> None:
    pair = both(sr)
    data = (np.arange(np.prod(shape)) % 100).astype(dtype).reshape(shape)
    on_both(pair, lambda d: d.add_tensor("t", data))
    on_both(pair, lambda d: d.get_tensor("t"))
    on_both(pair, lambda d: d.get_tensor_dims("t"))
    on_both(pair, lambda d: d.get_tensor_names())
    on_both(pair, lambda d: d.get_name())
    if dtype not in ("float32", "uint16"):
        on_both(pair, lambda d: d.get_tensor_type("t"))


def test_tensor_type_names_fixed_where_smartredis_is_wrong(sr: Any) -> None:
    real, mine = both(sr)
    for d in (real, mine):
        d.add_tensor("f", np.zeros(2, np.float32))
        d.add_tensor("u", np.zeros(2, np.uint16))
    assert real.get_tensor_type("f") is np.float64  # SmartRedis maps FLOAT to float64
    assert mine.get_tensor_type("f") is np.float32
    with pytest.raises(TypeError, match="UINT6"):  # ... and misspells UINT16
        real.get_tensor_type("u")
    assert mine.get_tensor_type("u") is np.uint16


BAD_TENSORS: list[tuple[str, Callable[[Any], Any]]] = [
    ("name not str", lambda d: d.add_tensor(1, np.zeros(2))),
    ("data a list", lambda d: d.add_tensor("t", [1, 2])),
    ("bool", lambda d: d.add_tensor("t", np.zeros(2, bool))),
    ("float16", lambda d: d.add_tensor("t", np.zeros(2, np.float16))),
    ("uint32", lambda d: d.add_tensor("t", np.zeros(2, np.uint32))),
    ("complex", lambda d: d.add_tensor("t", np.zeros(2, complex))),
    ("0-d", lambda d: d.add_tensor("t", np.array(3.0))),
    ("empty", lambda d: d.add_tensor("t", np.zeros((2, 0)))),
    ("empty name", lambda d: d.add_tensor("", np.zeros(2))),
    (".meta", lambda d: d.add_tensor(".meta", np.zeros(2))),
    ("twice", lambda d: (d.add_tensor("t", np.zeros(2)), d.add_tensor("t", np.zeros(2)))),
    ("missing", lambda d: d.get_tensor("nope")),
    ("missing dims", lambda d: d.get_tensor_dims("nope")),
    ("missing type", lambda d: d.get_tensor_type("nope")),
    ("get name not str", lambda d: d.get_tensor(3)),
]


@pytest.mark.parametrize("case", BAD_TENSORS, ids=[c[0] for c in BAD_TENSORS])
def test_bad_tensor_calls_raise_the_same_class(sr: Any, case: Any) -> None:
    error = on_both(both(sr), case[1])
    assert isinstance(error, Exception)


SCALARS: list[Any] = [3, -7, 2.5, np.float32(1.25), np.float64(3.5), np.int32(-4),
                      np.int64(2**40), np.uint32(7), np.uint64(2**63 + 5)]


@pytest.mark.parametrize("value", SCALARS, ids=[f"{type(v).__name__}" for v in SCALARS])
def test_meta_scalars(sr: Any, value: Any) -> None:
    pair = both(sr)
    on_both(pair, lambda d: d.add_meta_scalar("x", value))
    on_both(pair, lambda d: d.get_meta_scalars("x"))
    if not isinstance(value, np.float32):
        on_both(pair, lambda d: d.get_metadata_field_type("x"))
    on_both(pair, lambda d: d.get_metadata_field_names())


def test_several_values_in_a_field(sr: Any) -> None:
    real, mine = both(sr)
    for d in (real, mine):
        d.add_meta_scalar("n", 3)
        d.add_meta_scalar("n", 4)
        d.add_meta_string("s", "hello")
        d.add_meta_string("s", "wo")
    assert real.get_meta_strings("s") == mine.get_meta_strings("s") == ["hello", "wo"]
    same(lambda: real.get_meta_scalars("n"), lambda: mine.get_meta_scalars("n"))
    assert list(mine.get_meta_scalars("n")) == [3, 4]


def test_float_field_type_fixed_where_smartredis_is_wrong(sr: Any) -> None:
    real, mine = both(sr)
    for d in (real, mine):
        d.add_meta_scalar("f", np.float32(0.5))
    assert real.get_metadata_field_type("f") is np.float64  # SmartRedis: FLOAT -> float64
    assert mine.get_metadata_field_type("f") is np.float32


BAD_METADATA: list[tuple[str, Callable[[Any], Any]]] = [
    ("bool", lambda d: d.add_meta_scalar("x", True)),
    ("str scalar", lambda d: d.add_meta_scalar("x", "3")),
    ("int8", lambda d: d.add_meta_scalar("x", np.int8(3))),
    ("two values", lambda d: d.add_meta_scalar("x", [1, 2])),
    ("name not str", lambda d: d.add_meta_scalar(4, 3)),
    ("string not str", lambda d: d.add_meta_string("x", 3)),
    ("scalar onto string", lambda d: (d.add_meta_string("x", "a"), d.add_meta_scalar("x", 1))),
    ("string onto scalar", lambda d: (d.add_meta_scalar("x", 1), d.add_meta_string("x", "a"))),
    ("double onto int", lambda d: (d.add_meta_scalar("x", 1), d.add_meta_scalar("x", 1.5))),
    ("missing scalars", lambda d: d.get_meta_scalars("nope")),
    ("missing strings", lambda d: d.get_meta_strings("nope")),
    ("missing type", lambda d: d.get_metadata_field_type("nope")),
    ("scalars of strings", lambda d: (d.add_meta_string("x", "a"), d.get_meta_scalars("x"))),
    ("strings of scalars", lambda d: (d.add_meta_scalar("x", 1), d.get_meta_strings("x"))),
]


@pytest.mark.parametrize("case", BAD_METADATA, ids=[c[0] for c in BAD_METADATA])
def test_bad_metadata_calls_raise_the_same_class(sr: Any, case: Any) -> None:
    assert isinstance(on_both(both(sr), case[1]), Exception)


def test_string_field_type_and_tensor_names_stay_internal(sr: Any) -> None:
    pair = both(sr)
    on_both(pair, lambda d: d.add_meta_string("who", "me"))
    on_both(pair, lambda d: d.add_tensor("t", np.zeros(2)))
    on_both(pair, lambda d: d.get_metadata_field_type("who"))
    on_both(pair, lambda d: d.get_metadata_field_names())


def test_constructors_and_logging_arguments(sr: Any) -> None:
    same(lambda: sr.Dataset(3), lambda: ours.Dataset(3))
    pair = both(sr)
    on_both(pair, lambda d: d.log_data(2, "not a level"))
    on_both(pair, lambda d: d.log_data(sr.LLDebug if d is pair[0] else ours.LLDebug, 5))
    same(lambda: sr.LogContext(4), lambda: ours.LogContext(4))
    same(lambda: sr.log_data("c", "x", "y"), lambda: ours.log_data("c", "x", "y"))


def test_errors_are_also_sscontainer_client_errors() -> None:
    with pytest.raises(ClientError):
        ours.Dataset("d").get_tensor("nope")
    with pytest.raises(ours.error.RedisKeyError):
        ours.Dataset("d").get_tensor("nope")
    with pytest.raises(TypeError):
        ours.Dataset("d").add_tensor("t", [1])


# --- ConfigOptions ---------------------------------------------------------------------------
def test_config_options_read_suffixed_variables(sr: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SR_THING_dbx", "42")
    monkeypatch.setenv("SR_TEXT_dbx", "hello")
    monkeypatch.setenv("SR_BAD_dbx", "4x2")
    monkeypatch.setenv("SR_EMPTY_dbx", "")
    real = sr.ConfigOptions.create_from_environment("dbx")
    mine = ours.ConfigOptions.create_from_environment("dbx")
    pair = (real, mine)
    for option in ("SR_THING", "SR_BAD", "SR_NOPE", "SR_EMPTY", ""):
        on_both(pair, lambda o, n=option: o.get_integer_option(n))
    for option in ("SR_TEXT", "SR_THING", "SR_NOPE", "SR_EMPTY"):
        on_both(pair, lambda o, n=option: o.get_string_option(n))
    for option in ("SR_TEXT", "SR_NOPE", "SR_EMPTY"):
        on_both(pair, lambda o, n=option: o.is_configured(n))
    on_both(pair, lambda o: o.override_integer_option("SR_THING", 7))
    on_both(pair, lambda o: o.get_integer_option("SR_THING"))
    on_both(pair, lambda o: o.override_string_option("SR_NEW", "v"))
    on_both(pair, lambda o: (o.is_configured("SR_NEW"), o.get_string_option("SR_NEW")))
    on_both(pair, lambda o: o.override_integer_option("SR_THING", "7"))
    on_both(pair, lambda o: o.override_string_option("SR_NEW", 7))
    on_both(pair, lambda o: o.get_integer_option(5))


def test_config_options_need_the_factory(sr: Any) -> None:
    same(lambda: sr.ConfigOptions().get_integer_option("X"),
         lambda: ours.ConfigOptions().get_integer_option("X"))
    same(lambda: sr.ConfigOptions.create_from_environment(3),
         lambda: ours.ConfigOptions.create_from_environment(3))


def test_module_layout_matches(sr: Any) -> None:
    for name in sr.__all__:
        assert hasattr(ours, name), name
    for name in sr.error.__all__:
        ours_class = getattr(ours.error, name)
        assert issubclass(ours_class, RuntimeError) and issubclass(ours_class, ClientError)
        real_bases = {b.__name__ for b in getattr(sr.error, name).__mro__}
        assert real_bases <= {b.__name__ for b in ours_class.__mro__}
    from sscontainer.client.dataset_utils import DatasetConverter

    assert DatasetConverter is ours.DatasetConverter
    assert int(ours.LLQuiet) == int(sr.LLQuiet) and int(ours.LLDeveloper) == int(sr.LLDeveloper)
