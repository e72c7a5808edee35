"""Key prefixes (SmartRedis semantics) and key name checks."""

from __future__ import annotations

import pytest

from sscontainer.client.keys import (
    MAX_NAME_LENGTH,
    KeyBuilder,
    check_dataset_name,
    check_name,
    dataset_meta_key,
    dataset_name_from_key,
    dataset_tensor_key,
)
from sscontainer.errors import InvalidNameError


def test_no_prefix_variables_no_prefixes() -> None:
    keys = KeyBuilder({})
    assert keys.tensor_key("t", for_read=False) == "t"
    assert keys.tensor_key("t", for_read=True) == "t"
    assert keys.dataset_key("d", for_read=False) == "{d}"


def test_sskeyout_prefixes_writes_and_own_reads() -> None:
    keys = KeyBuilder({"SSKEYOUT": "producer_1"})
    assert keys.tensor_key("tensor", for_read=False) == "producer_1.tensor"
    assert keys.tensor_key("tensor", for_read=True) == "producer_1.tensor"
    assert keys.list_key("l", for_read=False) == "producer_1.l"
    assert keys.dataset_key("d", for_read=False) == "producer_1.{d}"
    assert keys.model_key("m", for_read=False) == "m"  # models are not prefixed by default
    keys.use_model_prefix = True
    assert keys.model_key("m", for_read=False) == "producer_1.m"
    keys.use_tensor_prefix = False
    assert keys.tensor_key("tensor", for_read=False) == "tensor"


def test_sskeyin_first_entry_is_the_default_source() -> None:
    keys = KeyBuilder({"SSKEYOUT": "consumer", "SSKEYIN": "producer_1,producer_2"})
    assert keys.get_prefixes == ["producer_1", "producer_2"]
    assert keys.tensor_key("t", for_read=True) == "producer_1.t"
    assert keys.tensor_key("t", for_read=False) == "consumer.t"
    keys.set_data_source("producer_2")
    assert keys.tensor_key("t", for_read=True) == "producer_2.t"


def test_data_source_without_sskeyin() -> None:
    keys = KeyBuilder({})
    keys.set_data_source("producer_1")
    assert keys.tensor_key("tensor", for_read=True) == "producer_1.tensor"
    assert keys.tensor_key("tensor", for_read=False) == "tensor"
    with pytest.raises(InvalidNameError):
        keys.set_data_source("bad name")


def test_invalid_prefix_variables_are_rejected() -> None:
    with pytest.raises(InvalidNameError, match="SSKEYOUT"):
        KeyBuilder({"SSKEYOUT": "a/b"})
    with pytest.raises(InvalidNameError, match="SSKEYIN"):
        KeyBuilder({"SSKEYIN": "ok,not ok"})


@pytest.mark.parametrize(
    "name, fragment",
    [
        ("", "empty"),
        ("a b", "whitespace"),
        ("tab\there", "whitespace"),
        ("new\nline", "whitespace"),
        ("nul\x00", "control"),
        ("bell\x07", "control"),
        ("x" * (MAX_NAME_LENGTH + 1), "limit"),
        (b"bytes", "must be a string"),
        (None, "must be a string"),
    ],
)
def test_hostile_names(name: object, fragment: str) -> None:
    with pytest.raises(InvalidNameError, match=fragment):
        check_name(name)


def test_acceptable_names() -> None:
    for name in ("t", "a.b:c/d", "x" * MAX_NAME_LENGTH, "température", "{tag}key"):
        assert check_name(name) == name
    with pytest.raises(InvalidNameError, match="may not contain"):
        check_dataset_name("a{b}")


def test_dataset_key_helpers() -> None:
    key = KeyBuilder({"SSKEYOUT": "p"}).dataset_key("ds", for_read=False)
    assert dataset_meta_key(key) == "p.{ds}.meta"
    assert dataset_tensor_key(key, "x") == "p.{ds}.x"
    assert dataset_name_from_key(key) == "ds"
