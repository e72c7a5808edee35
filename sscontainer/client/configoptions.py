"""``ConfigOptions``: where a Client finds its settings (SmartRedis 0.6.1's).

``ConfigOptions.create_from_environment("X")`` reads every option ``NAME`` from the
environment variable ``NAME_X`` (``SSDB_X``, ``SR_DB_TYPE_X``, ``SSKEYIN_X``...;
with ``""``, plain ``NAME``), so one application can talk to several databases.
Values are read on first use and then kept; ``override_*_option`` replaces them.
sscontainer's password option ``SSDB_PASSWORD`` follows the same rule
(``SSDB_PASSWORD_X`` for database ``X``).
"""

from __future__ import annotations

import os
import re
from typing import Any

from .checks import api, typecheck
from .error import ArgumentTypeError, ParameterError, RedisKeyError, RedisRuntimeError

_INTEGER = re.compile(r"-?[0-9]+")  # ASCII digits only, as SmartRedis's parser
INT_MIN, INT_MAX = -(2**31), 2**31 - 1
_NOT_MANAGED = (
    "Attempting to call managed method on {} object not created from a factory method: "
    "use ConfigOptions.create_from_environment(db_suffix)"
)


def parse_integer(variable: str, raw: str) -> int:
    """The value ``raw`` of environment variable ``variable`` as a C int, checked as
    SmartRedis checks it (an optional ``-`` and ASCII digits, within INT_MIN..INT_MAX)."""
    if not _INTEGER.fullmatch(raw):
        raise ParameterError(f"The value of {variable} must be a valid number.")
    value = int(raw)
    if not INT_MIN <= value <= INT_MAX:
        raise ParameterError(
            f"The value of {variable} is too large to be stored as an integer value."
        )
    return value


class ConfigOptions:
    """Settings for a Client, read from (suffixed) environment variables."""

    def __init__(self) -> None:
        self._managed = False
        self._suffix = ""
        self._ints: dict[str, int] = {}
        self._strings: dict[str, str] = {}

    @classmethod
    @api
    def create_from_environment(cls, db_suffix: str) -> ConfigOptions:
        """Options read from ``NAME_<db_suffix>`` (``NAME`` when ``db_suffix`` is empty)."""
        typecheck(db_suffix, "db_suffix", str)
        options = cls()
        options._managed = True
        options._suffix = db_suffix
        return options

    def _check_managed(self) -> None:
        if not self._managed:
            raise RedisRuntimeError(_NOT_MANAGED.format(type(self).__name__), "")

    def _variable(self, option_name: str) -> str:
        if not option_name:
            raise RedisKeyError("Invalid empty environment variable name detected")
        return f"{option_name}_{self._suffix}" if self._suffix else option_name

    def _integer_from_env(self, option_name: str, default: int, required: bool) -> int:
        variable = self._variable(option_name)
        raw = os.environ.get(variable)
        if raw is None:
            if required:
                raise RedisKeyError(f"No value found for key {variable}")
            return default
        return parse_integer(variable, raw) if raw else default

    def _string_from_env(self, option_name: str, default: str, required: bool) -> str:
        variable = self._variable(option_name)
        raw = os.environ.get(variable)
        if raw is None and required:
            raise RedisKeyError(f"No value found for key {variable}")
        return raw if raw else default

    # --- SmartRedis's public methods ---------------------------------------------------
    @api
    def get_integer_option(self, option_name: str) -> int:
        """The integer option ``option_name``; ``RedisKeyError`` when it is not set."""
        self._check_managed()
        typecheck(option_name, "option_name", str)
        if option_name not in self._ints:
            self._ints[option_name] = self._integer_from_env(option_name, -1, True)
        return self._ints[option_name]

    @api
    def get_string_option(self, option_name: str) -> str:
        """The string option ``option_name``; ``RedisKeyError`` when it is not set."""
        self._check_managed()
        typecheck(option_name, "option_name", str)
        if option_name not in self._strings:
            self._strings[option_name] = self._string_from_env(option_name, "", True)
        return self._strings[option_name]

    @api
    def is_configured(self, option_name: str) -> bool:
        """Whether ``option_name`` has a value (overridden, or set in the environment)."""
        self._check_managed()
        typecheck(option_name, "option_name", str)
        if option_name in self._ints or option_name in self._strings:
            return True
        return self._variable(option_name) in os.environ

    @api
    def override_integer_option(self, option_name: str, value: int) -> None:
        """Use ``value`` for ``option_name`` whatever the environment says."""
        self._check_managed()
        typecheck(option_name, "option_name", str)
        typecheck(value, "value", int)
        if not -(2**63) <= value < 2**63:
            raise ArgumentTypeError(f"Argument value = {value} does not fit a 64-bit integer")
        self._ints[option_name] = int(value)

    @api
    def override_string_option(self, option_name: str, value: str) -> None:
        """Use ``value`` for ``option_name`` whatever the environment says."""
        self._check_managed()
        typecheck(option_name, "option_name", str)
        typecheck(value, "value", str)
        self._strings[option_name] = value

    # --- what the Client uses ------------------------------------------------------------
    def resolve_integer(self, option_name: str, default: int) -> int:
        """The option's value, or ``default`` when it is not set (then kept)."""
        if option_name not in self._ints:
            self._ints[option_name] = self._integer_from_env(option_name, default, False)
        return self._ints[option_name]

    def resolve_string(self, option_name: str, default: str) -> str:
        if option_name not in self._strings:
            self._strings[option_name] = self._string_from_env(option_name, default, False)
        return self._strings[option_name]

    def copy(self) -> ConfigOptions:
        """An independent copy (a Client keeps its own, as SmartRedis's clone)."""
        self._check_managed()
        other = ConfigOptions()
        other._managed, other._suffix = True, self._suffix
        other._ints, other._strings = dict(self._ints), dict(self._strings)
        return other

    @property
    def db_suffix(self) -> str:
        return self._suffix

    def __repr__(self) -> str:
        state: dict[str, Any] = {**self._strings, **self._ints}
        state.pop("SSDB_PASSWORD", None)  # never print a secret
        return f"ConfigOptions(db_suffix={self._suffix!r}, resolved={state})"
