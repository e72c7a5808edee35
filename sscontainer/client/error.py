"""SmartRedis's exception classes, also catchable as sscontainer's own errors.

The names, bases and message format are SmartRedis 0.6.1's (``smartredis.error``):
``RedisReplyError`` and its subclasses are ``RuntimeError``s, a failed call says
``Client.<method> execution failed`` and then what went wrong. Each class also
derives from :class:`sscontainer.errors.ClientError`, so code written against
either package catches them. Bad arguments are ``TypeError`` / ``ValueError`` as in
SmartRedis (here :class:`ArgumentTypeError` / :class:`ParameterError`, which are
sscontainer errors too).
"""

from __future__ import annotations

import os

from ..errors import ClientError, SSConfigError, SSContainerError

__all__ = [
    "RedisConnectionError",
    "RedisReplyError",
    "RedisRuntimeError",
    "RedisBadAllocError",
    "RedisDatabaseError",
    "RedisInternalError",
    "RedisTimeoutError",
    "RedisKeyError",
    "ParameterError",
    "ArgumentTypeError",
]


class RedisConnectionError(ClientError, RuntimeError):
    """The client could not connect to the database when it was created."""

    def __init__(self, cpp_error: str = "") -> None:
        super().__init__(self._set_message(cpp_error))

    @staticmethod
    def _set_message(cpp_error: str) -> str:
        msg = cpp_error + "\n" if cpp_error else ""
        if "SSDB" in os.environ:
            msg += f"Could not connect to Orchestrator at {os.environ['SSDB']}"
        return msg


class RedisReplyError(ClientError, RuntimeError):
    """A call failed; ``detail`` is what went wrong, ``method`` the API call."""

    def __init__(self, cpp_error: str, method: str = "", key: str = "") -> None:
        self.detail = cpp_error
        self.method = method
        super().__init__(self._check_error(cpp_error, method, key))

    @staticmethod
    def _check_error(cpp_error: str, method: str = "", key: str = "") -> str:
        prefix = f"{method} execution failed\n" if method else ""
        return prefix + cpp_error


class RedisRuntimeError(RedisReplyError):
    """The database answered with an error, or the request cannot be carried out."""

    @staticmethod
    def _check_error(cpp_error: str, method: str = "", key: str = "") -> str:
        prefix = f"{method} execution failed\n" if method else ""
        if "REDIS_REPLY_NIL" in cpp_error:
            return prefix + f"No Dataset stored at key: {key}"
        return prefix + cpp_error


class RedisBadAllocError(RedisReplyError):
    """Memory for a reply could not be allocated."""


class RedisDatabaseError(RedisReplyError):
    """The connection to the database failed while a call was under way."""


class RedisInternalError(RedisReplyError):
    """An unexpected condition inside the client (a reply of an unexpected shape...)."""


class RedisTimeoutError(RedisReplyError):
    """A call did not complete in the time allowed."""


class RedisKeyError(RedisReplyError):
    """A dataset, tensor or metadata field that was asked for does not exist."""


class ParameterError(SSConfigError):
    """An argument has the right type but a value SmartRedis refuses (a ``ValueError``)."""


class ArgumentTypeError(SSContainerError, TypeError):
    """An argument has the wrong type (a ``TypeError``, as SmartRedis raises)."""
