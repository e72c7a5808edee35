"""Key names and ensemble prefixes, following SmartRedis.

Writes are prefixed with ``SSKEYOUT`` (``producer_1.tensor``); reads with the
*data source*. As in SmartRedis, tensors, datasets and aggregation lists are
prefixed by default and models/scripts are not; the ``use_*_ensemble_prefix``
switches change that, and prefixes only apply when the variables are set.

The data source starts as the first name in ``SSKEYIN`` (SmartRedis); where
``SSKEYIN`` is unset it is the client's own ``SSKEYOUT``, so a prefixed model
reads back what it wrote. ``set_data_source`` accepts the ``SSKEYIN`` names,
``SSKEYOUT`` and any other valid entity name, so a consumer without
``SSKEYIN`` can read another model's keys (the guide's producer/consumer
example).
"""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import InvalidNameError
from ..names import validate_name

MAX_NAME_LENGTH = 1024


def check_name(name: object, what: str = "name") -> str:
    """Return ``name`` when it can be (part of) a key; else raise :class:`InvalidNameError`.

    Keys may hold any printable text except whitespace, up to ``MAX_NAME_LENGTH``
    characters: control characters and spaces break tooling and logs, and an
    unbounded name is a memory problem, not a name.
    """
    if type(name) is not str:
        raise InvalidNameError(f"{what} must be a string, got {type(name).__name__} {name!r}")
    if not name:
        raise InvalidNameError(f"{what} is empty: give a non-empty name")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidNameError(
            f"{what} is {len(name)} characters long: the limit is {MAX_NAME_LENGTH}"
        )
    if not name.isprintable() or " " in name:
        raise InvalidNameError(
            f"{what} {name!r} contains whitespace or control characters: use printable "
            "characters without spaces"
        )
    return name


def check_dataset_name(name: object, what: str = "dataset name") -> str:
    """A dataset name becomes a hash tag ``{name}``: braces would break the tag."""
    text = check_name(name, what)
    if "{" in text or "}" in text:
        raise InvalidNameError(f"{what} {text!r} may not contain '{{' or '}}'")
    return text


def _prefix_from_env(value: str | None, variable: str) -> str:
    if not value:
        return ""
    return validate_name(value.strip(), variable)


class KeyBuilder:
    """Builds database keys from user names according to the prefix settings."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.put_prefix = _prefix_from_env(env.get("SSKEYOUT"), "SSKEYOUT")
        self.get_prefixes = [
            validate_name(part.strip(), "SSKEYIN entry")
            for part in env.get("SSKEYIN", "").split(",")
            if part.strip()
        ]
        self.get_prefix = self.get_prefixes[0] if self.get_prefixes else self.put_prefix
        self.use_tensor_prefix = True
        self.use_dataset_prefix = True
        self.use_list_prefix = True
        self.use_model_prefix = False
        self._put = self.put_prefix + "." if self.put_prefix else ""
        self._get = self.get_prefix + "." if self.get_prefix else ""

    def set_data_source(self, source_id: str) -> None:
        self.get_prefix = validate_name(source_id, "data source")
        self._get = self.get_prefix + "."

    def tensor_key(self, name: str, for_read: bool) -> str:
        check_name(name, "tensor name")
        if not self.use_tensor_prefix:
            return name
        return (self._get if for_read else self._put) + name

    def model_key(self, name: str, for_read: bool) -> str:
        check_name(name, "model/script name")
        if not self.use_model_prefix:
            return name
        return (self._get if for_read else self._put) + name

    def list_key(self, name: str, for_read: bool) -> str:
        check_name(name, "list name")
        if not self.use_list_prefix:
            return name
        return (self._get if for_read else self._put) + name

    def dataset_key(self, name: str, for_read: bool) -> str:
        """``prefix.{name}``: the hash tag keeps a dataset's keys in one cluster slot."""
        check_dataset_name(name)
        prefix = (self._get if for_read else self._put) if self.use_dataset_prefix else ""
        return prefix + "{" + name + "}"


def dataset_meta_key(dataset_key: str) -> str:
    return dataset_key + ".meta"


def dataset_tensor_key(dataset_key: str, tensor_name: str) -> str:
    return dataset_key + "." + tensor_name


def dataset_name_from_key(dataset_key: str) -> str:
    """``prefix.{name}`` -> ``name``."""
    start = dataset_key.find("{")
    end = dataset_key.find("}", start + 1)
    if start < 0 or end < 0:
        return dataset_key
    return dataset_key[start + 1:end]
