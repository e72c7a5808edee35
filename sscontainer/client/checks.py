"""Argument checks and the wrapper every public call goes through (as SmartRedis's).

``typecheck`` raises the ``TypeError`` SmartRedis raises for a wrong-typed argument.
``api`` names the failed call in the error: ``Client.get_tensor execution failed``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from .error import ArgumentTypeError, RedisReplyError

F = TypeVar("F", bound=Callable[..., Any])


def typecheck(arg: object, name: str, expected: type | tuple[type, ...]) -> None:
    """``TypeError`` (an :class:`ArgumentTypeError`) unless ``arg`` is an ``expected``."""
    if not isinstance(arg, expected):
        raise ArgumentTypeError(f"Argument {name} is of type {type(arg)}, not {expected}")


def api(func: F) -> F:
    """Label a :class:`RedisReplyError` raised inside ``func`` with ``Class.func``."""

    @functools.wraps(func)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return func(self, *args, **kwargs)
        except RedisReplyError as exc:
            if exc.method:
                raise
            owner = self if isinstance(self, type) else type(self)
            method = f"{owner.__name__}.{func.__name__}"
            raise type(exc)(exc.detail, method) from None

    return wrapper  # type: ignore[return-value]


def int_arg(value: object, name: str) -> int:
    """An ``int`` argument that SmartRedis passes to C++ as a 32-bit ``int``."""
    if not isinstance(value, int):
        raise ArgumentTypeError(f"Argument {name} is of type {type(value)}, not {int}")
    number = int(value)
    if not -(2**31) <= number < 2**31:
        raise ArgumentTypeError(f"Argument {name} = {number} does not fit a 32-bit int")
    return number
