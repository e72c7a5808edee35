"""``Client``: SmartRedis-compatible tensor client over plain Redis/Valkey.

One tensor = one key (see :mod:`tensor_codec`). Connection details come from
``SSDB``/``SR_DB_TYPE``/``SSDB_PASSWORD`` unless given; key prefixes from
``SSKEYOUT``/``SSKEYIN`` (see :mod:`keys`). Every failure is a
:class:`~sscontainer.errors.ClientError` (or an ``SSConfigError`` for bad
arguments) that names the key and the database.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from types import TracebackType
from typing import Any, NoReturn

import numpy as np
import redis
from redis.cluster import RedisCluster

from ..db.address import parse_address
from ..errors import ClientError, SSConfigError
from .client_datasets import DatasetMixin, _poll
from .connection import REDIS_ERRORS, Target, open_connection, resolve_target
from .keys import KeyBuilder, check_name
from .log import ClientLogger, LogLevel
from .ml import MLMixin  # [ml] models and scripts
from .tensor_codec import decode, encode

DEFAULT_TIMEOUT = 10.0


class Client(DatasetMixin, MLMixin):
    """A connection to the experiment's database (standalone, cluster or colocated).

    ``Client(cluster=False)`` reads the address from ``SSDB``; ``address``
    overrides it (``host:port``, ``host:port,host:port`` or ``unix:///path``).
    ``cluster=None`` takes the type from ``SR_DB_TYPE``. ``timeout`` bounds every
    network operation (seconds; connecting is capped at 5 s).
    """

    def __init__(
        self,
        address: str | bool | None = None,
        cluster: bool | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        logger_name: str = "Default",
        password: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        if isinstance(address, bool):
            # SmartRedis's positional form Client(cluster, address=None)
            flag: object = address
            address = cluster if isinstance(cluster, str) else None
            cluster = bool(flag)
        environ = os.environ if env is None else env
        self._log = ClientLogger(logger_name, environ)
        self._keys = KeyBuilder(environ)
        self._target: Target = resolve_target(address, cluster, password, environ)
        self._timeout = timeout
        self._redis: Any = open_connection(self._target, timeout)

    # --- plumbing -------------------------------------------------------------------
    @property
    def keys(self) -> KeyBuilder:
        """How names become keys (sscontainer's own ML layer builds on this)."""
        return self._keys

    @property
    def redis(self) -> Any:
        """The underlying redis-py client (``redis.Redis`` or ``RedisCluster``)."""
        return self._redis

    @property
    def is_cluster(self) -> bool:
        return self._target.cluster

    def _fail(self, exc: BaseException, action: str) -> NoReturn:
        if isinstance(exc, redis.TimeoutError):
            detail = f"no answer within {self._timeout:g} s"
        else:
            detail = str(exc) or type(exc).__name__
        raise ClientError(f"{action} failed on the database at {self._target.ssdb}: {detail}")

    def close(self) -> None:
        try:
            self._redis.close()
        except REDIS_ERRORS:
            pass

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __str__(self) -> str:
        kind = "cluster" if self._target.cluster else "standalone"
        return f"Client({kind} database at {self._target.ssdb})"

    # --- tensors ----------------------------------------------------------------
    def put_tensor(self, name: str, data: np.ndarray[Any, Any]) -> None:
        """Store ``data`` under ``name`` (prefixed with ``SSKEYOUT`` when prefixing is on)."""
        key = self._keys.tensor_key(name, for_read=False)
        value = encode(data)  # checks the type and dtype
        try:
            self._redis.set(key, value)
        except REDIS_ERRORS as exc:
            self._fail(exc, f"put_tensor({name!r}) [key {key!r}]")

    def _get_value(self, key: str, action: str) -> bytes:
        try:
            value = self._redis.get(key)
        except REDIS_ERRORS as exc:
            self._fail(exc, action)
        if value is None:
            raise ClientError(
                f"{action}: key {key!r} does not exist in the database at {self._target.ssdb}"
                + self._source_hint()
            )
        return bytes(value)

    def _source_hint(self) -> str:
        if self._keys.use_tensor_prefix and self._keys.get_prefix:
            return f" (reading from data source {self._keys.get_prefix!r})"
        return ""

    def get_tensor(self, name: str) -> np.ndarray[Any, Any]:
        """The tensor ``name`` as a read-only array viewing the reply (no copy).

        Use ``.copy()`` for a writable array, or :meth:`unpack_tensor` to fill one.
        """
        key = self._keys.tensor_key(name, for_read=True)
        return decode(self._get_value(key, f"get_tensor({name!r})"), key)

    def unpack_tensor(self, name: str, result_array: np.ndarray[Any, Any]) -> None:
        """Copy tensor ``name`` into ``result_array`` (same dtype and number of elements)."""
        result = result_array
        if not isinstance(result, np.ndarray):
            raise SSConfigError(f"result must be a numpy.ndarray, got {type(result).__name__}")
        if not result.flags.writeable:
            raise SSConfigError("result is read-only: pass a writable array")
        stored = self.get_tensor(name)
        if stored.dtype != result.dtype.newbyteorder("<") and stored.dtype != result.dtype:
            raise ClientError(
                f"unpack_tensor({name!r}): the tensor is {stored.dtype.name}, result is "
                f"{result.dtype.name}"
            )
        if result.shape == stored.shape:
            np.copyto(result, stored)
        elif result.size == stored.size and result.flags.c_contiguous:
            np.copyto(result.reshape(stored.shape), stored)
        else:
            raise ClientError(
                f"unpack_tensor({name!r}): the tensor has shape {stored.shape}, result has "
                f"{result.shape}"
            )

    def delete_tensor(self, name: str) -> None:
        """Delete tensor ``name`` (deleting a missing tensor is not an error)."""
        key = self._keys.tensor_key(name, for_read=True)
        try:
            self._redis.delete(key)
        except REDIS_ERRORS as exc:
            self._fail(exc, f"delete_tensor({name!r})")

    def copy_tensor(self, src_name: str, dest_name: str) -> None:
        """Copy ``src_name`` (data source) to ``dest_name`` (own prefix)."""
        src = self._keys.tensor_key(src_name, for_read=True)
        dest = self._keys.tensor_key(dest_name, for_read=False)
        value = self._get_value(src, f"copy_tensor({src_name!r}, {dest_name!r})")
        decode(value, src)  # refuse to copy something that is not a tensor
        try:
            self._redis.set(dest, value)
        except REDIS_ERRORS as exc:
            self._fail(exc, f"copy_tensor({src_name!r}, {dest_name!r})")

    def rename_tensor(self, old_name: str, new_name: str) -> None:
        """Rename ``old_name`` (data source) to ``new_name`` (own prefix)."""
        src = self._keys.tensor_key(old_name, for_read=True)
        dest = self._keys.tensor_key(new_name, for_read=False)
        if src == dest:
            return
        action = f"rename_tensor({old_name!r}, {new_name!r})"
        if not self._target.cluster:
            try:
                self._redis.rename(src, dest)
                return
            except redis.ResponseError as exc:
                if "no such key" in str(exc).lower():
                    raise ClientError(f"{action}: tensor key {src!r} does not exist") from exc
                self._fail(exc, action)
            except REDIS_ERRORS as exc:
                self._fail(exc, action)
        self.copy_tensor(old_name, new_name)  # keys may live on different shards
        self.delete_tensor(old_name)

    def tensor_exists(self, name: str) -> bool:
        return self.key_exists(self._keys.tensor_key(name, for_read=True))

    def key_exists(self, key: str) -> bool:
        """Whether ``key`` (used as is, no prefix) exists."""
        check_name(key, "key")
        try:
            return bool(self._redis.exists(key))
        except REDIS_ERRORS as exc:
            self._fail(exc, f"key_exists({key!r})")

    def poll_tensor(self, name: str, poll_frequency_ms: int, num_tries: int) -> bool:
        """Check up to ``num_tries`` times, ``poll_frequency_ms`` apart, for tensor ``name``."""
        return _poll(lambda: self.tensor_exists(name), poll_frequency_ms, num_tries)

    def poll_key(self, key: str, poll_frequency_ms: int, num_tries: int) -> bool:
        return _poll(lambda: self.key_exists(key), poll_frequency_ms, num_tries)

    # --- prefixes -------------------------------------------------------------------
    def set_data_source(self, source_id: str) -> None:
        """Read tensors, datasets and lists written by entity ``source_id``."""
        self._keys.set_data_source(source_id)

    def use_tensor_ensemble_prefix(self, use_prefix: bool) -> None:
        self._keys.use_tensor_prefix = bool(use_prefix)

    def use_dataset_ensemble_prefix(self, use_prefix: bool) -> None:
        self._keys.use_dataset_prefix = bool(use_prefix)

    def use_list_ensemble_prefix(self, use_prefix: bool) -> None:
        self._keys.use_list_prefix = bool(use_prefix)

    def use_model_ensemble_prefix(self, use_prefix: bool) -> None:
        self._keys.use_model_prefix = bool(use_prefix)

    # --- logging ----------------------------------------------------------------------
    def log_data(self, level: LogLevel | int, data: str) -> None:
        self._log.log(level, data)

    def log_warning(self, level: LogLevel | int, data: str) -> None:
        self._log.log(level, f"WARNING: {data}", 30)

    def log_error(self, level: LogLevel | int, data: str) -> None:
        self._log.log(level, f"ERROR: {data}", 40)

    # --- server administration ----------------------------------------------------------
    def _nodes(self, address: str | None) -> Any:
        """Cluster target nodes for an admin command (all primaries when ``address`` is None)."""
        if address is None:
            return RedisCluster.PRIMARIES
        parsed = parse_address(address)
        node = self._redis.get_node(host=parsed.host, port=parsed.port)
        if node is None:
            raise ClientError(f"{address} is not a node of the cluster at {self._target.ssdb}")
        return node

    def _check_standalone_address(self, address: str | None) -> None:
        if address is not None and parse_address(address) != self._target.addresses[0]:
            raise ClientError(
                f"{address} is not the database this client uses ({self._target.ssdb})"
            )

    def config_set(self, config_param: str, value: str, address: str | None = None) -> None:
        """``CONFIG SET`` on the server at ``address`` (None: every server)."""
        try:
            if self._target.cluster:
                self._redis.config_set(config_param, value, target_nodes=self._nodes(address))
            else:
                self._check_standalone_address(address)
                self._redis.config_set(config_param, value)
        except REDIS_ERRORS as exc:
            self._fail(exc, f"config_set({config_param!r}, {value!r})")

    def config_get(self, expression: str, address: str | None = None) -> dict[str, str]:
        """``CONFIG GET`` on the server at ``address`` (None: the first server)."""
        try:
            if self._target.cluster:
                node = self._nodes(address) if address else self._redis.get_primaries()[0]
                reply = self._redis.config_get(expression, target_nodes=node)
            else:
                self._check_standalone_address(address)
                reply = self._redis.config_get(expression)
        except REDIS_ERRORS as exc:
            self._fail(exc, f"config_get({expression!r})")
        return {_text(k): _text(v) for k, v in dict(reply).items()}

    def flush_db(self, address: str | None = None) -> None:
        """Delete every key on the server at ``address`` (None: every server)."""
        try:
            if self._target.cluster:
                self._redis.flushdb(target_nodes=self._nodes(address))
            else:
                self._check_standalone_address(address)
                self._redis.flushdb()
        except REDIS_ERRORS as exc:
            self._fail(exc, "flush_db")


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
