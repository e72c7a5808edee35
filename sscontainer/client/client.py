"""``Client``: SmartRedis 0.6.1's Python client, in pure Python, on the same wire.

Constructed as SmartRedis's is: ``Client()``, ``Client(None, "name")``,
``Client(config_options=ConfigOptions.create_from_environment("X"),
logger_name=...)``, or the older ``Client(cluster, address)`` (which, as in
SmartRedis, writes ``address`` into ``os.environ["SSDB"]``). Tensors, datasets,
lists, models and scripts are stored exactly where and how SmartRedis stores them,
so either client reads what the other wrote. The tensor calls live here; datasets
and lists, models and scripts, and database-wide calls in the mixins.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

import numpy as np

from .backend import Backend
from .checks import api, int_arg, typecheck
from .client_admin import AdminMixin
from .client_datasets import DatasetMixin
from .client_models import ModelMixin
from .cluster import Cluster, slot_of
from .configoptions import ConfigOptions
from .dataset import check_tensor
from .dtypes import tensor_type
from .error import ArgumentTypeError, RedisConnectionError, RedisInternalError
from .keys import KeyBuilder
from .settings import Settings, resolve
from .srobject import SRObject
from .standalone import Standalone
from .tensor_reply import decode, tensorset_args

_ADDRESS_KEYWORDS = ("cluster", "address", "logger_name")


def _cluster_flag(cluster: object) -> bool:
    """As SmartRedis's binding converts it: None is False, anything with ``__bool__``."""
    if cluster is None:
        return False
    if not hasattr(type(cluster), "__bool__"):
        raise ArgumentTypeError(f"Argument cluster is of type {type(cluster)}, not bool")
    return bool(cluster)


class Client(SRObject, DatasetMixin, ModelMixin, AdminMixin):
    """A connection to a database (standalone, Redis Cluster, or colocated on a socket)."""

    def __init__(self, *a: Any, **kw: Any) -> None:
        if a:
            if isinstance(a[0], bool):
                for arg in kw:
                    if arg not in _ADDRESS_KEYWORDS:
                        raise ArgumentTypeError(
                            f"__init__() got an unexpected keyword argument '{arg}'"
                        )
                self._address_construction(*a, **kw)
            elif isinstance(a[0], ConfigOptions) or a[0] is None:
                self._standard_construction(*a, **kw)
            else:
                raise ArgumentTypeError(f"Invalid type for argument 0: {type(a[0])}")
        elif "address" in kw or "cluster" in kw:
            self._address_construction(*a, **kw)
        else:
            self._standard_construction(*a, **kw)

    def _address_construction(
        self, cluster: bool, address: str | None = None, logger_name: str = "Default"
    ) -> None:
        flag = _cluster_flag(cluster)
        if address:
            typecheck(address, "address", str)
            os.environ["SSDB"] = address  # SmartRedis's behaviour: later Clients see it too
        if "SSDB" not in os.environ:
            raise RedisConnectionError("Could not connect to database. $SSDB not set")
        self._connect(ConfigOptions.create_from_environment(""), flag, logger_name)

    def _standard_construction(
        self, config_options: ConfigOptions | None = None, logger_name: str = "Default"
    ) -> None:
        if config_options is not None and not isinstance(config_options, ConfigOptions):
            raise ArgumentTypeError(
                f"Argument config_options is of type {type(config_options)}, not ConfigOptions"
            )
        try:
            options = (config_options.copy() if config_options
                       else ConfigOptions.create_from_environment(""))
        except RuntimeError as exc:
            raise RedisConnectionError(str(exc)) from None
        self._connect(options, None, logger_name)

    def _connect(self, options: ConfigOptions, cluster: bool | None, logger_name: str) -> None:
        typecheck(logger_name, "logger_name", str)
        super().__init__(logger_name)
        try:
            settings: Settings = resolve(options, cluster)
            backend_class = Cluster if settings.cluster else Standalone
            self._db: Backend = backend_class(settings.address, settings.password,
                                              settings.timeouts)
        except RedisConnectionError:
            raise
        except RuntimeError as exc:  # SmartRedis's errors are RuntimeErrors
            raise RedisConnectionError(getattr(exc, "detail", str(exc))) from None
        self._keys = KeyBuilder(settings.put_prefix, settings.get_prefixes)
        self._model_chunk_size = 0  # 0: ask the database before every set_model

    # --- sscontainer's additions: closing ---------------------------------------------------
    def close(self) -> None:
        """Close the connections now (they are also closed when the Client is collected)."""
        db: Backend | None = getattr(self, "_db", None)  # None: the constructor failed
        if db is not None:
            db.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __str__(self) -> str:
        return f"Client ({self._name}):\n{self._db.describe()}"

    @property
    def is_cluster(self) -> bool:
        return self._db.is_cluster

    # --- tensors --------------------------------------------------------------------------
    @api
    def put_tensor(self, name: str, data: np.ndarray[Any, Any]) -> None:
        """Store ``data`` as tensor ``name`` (under the put prefix, when prefixing is on)."""
        typecheck(name, "name", str)
        typecheck(data, "data", np.ndarray)
        tensor_type(data)
        key = self._keys.tensor(name, False)
        check_tensor(key, data)
        self._db.call(key, *tensorset_args(key, data))

    @api
    def get_tensor(self, name: str) -> np.ndarray[Any, Any]:
        """Tensor ``name`` as a new, writable array (received straight into it)."""
        typecheck(name, "name", str)
        return self._tensor(self._keys.tensor(name, True))

    def _tensor(self, key: str | bytes, into: np.ndarray[Any, Any] | None = None
                ) -> np.ndarray[Any, Any]:
        reply = self._db.tensor(key, into)
        return reply if isinstance(reply, np.ndarray) else decode(reply)

    @api
    def unpack_tensor(self, name: str, result: np.ndarray[Any, Any]) -> None:
        """Fill ``result`` with tensor ``name`` (sscontainer's addition, as in SmartRedis's
        C/C++/Fortran APIs): same dtype and number of elements, C-contiguous, writable.
        The bytes are received straight into ``result``."""
        typecheck(name, "name", str)
        typecheck(result, "result", np.ndarray)
        if not (result.flags.c_contiguous and result.flags.writeable):
            raise ArgumentTypeError("result must be a writable, C-contiguous numpy array")
        array = self._tensor(self._keys.tensor(name, True), result)
        if array is result:
            return
        if array.dtype != result.dtype:
            raise RedisInternalError(
                f"The type of the fetched tensor ({array.dtype}) does not match the provided "
                f"type ({result.dtype})"
            )
        raise RedisInternalError(
            f"The dimensions of the fetched tensor {list(array.shape)} do not match the "
            f"provided memory space {list(result.shape)}"
        )

    @api
    def delete_tensor(self, name: str) -> None:
        typecheck(name, "name", str)
        key = self._keys.tensor(name, True)
        self._db.call(key, "UNLINK" if self._db.is_cluster else "DEL", key)

    def _copy_tensor_key(self, src: str | bytes, dest: str | bytes) -> None:
        self._db.call(dest, *tensorset_args(dest, self._tensor(src)))

    @api
    def copy_tensor(self, src_name: str, dest_name: str) -> None:
        typecheck(src_name, "src_name", str)
        typecheck(dest_name, "dest_name", str)
        self._copy_tensor_key(self._keys.tensor(src_name, True),
                              self._keys.tensor(dest_name, False))

    @api
    def rename_tensor(self, old_name: str, new_name: str) -> None:
        typecheck(old_name, "old_name", str)
        typecheck(new_name, "new_name", str)
        old, new = self._keys.tensor(old_name, True), self._keys.tensor(new_name, False)
        if not self._db.is_cluster or slot_of(old) == slot_of(new):
            self._db.call(old, "RENAME", old, new)
        else:
            self._copy_tensor_key(old, new)
            self._db.call(old, "UNLINK", old)

    # --- existence and polling --------------------------------------------------------
    def _exists(self, key: str | bytes) -> bool:
        return bool(self._db.call(key, "EXISTS", key))

    @api
    def tensor_exists(self, name: str) -> bool:
        typecheck(name, "name", str)
        return self._exists(self._keys.tensor(name, True))

    @api
    def key_exists(self, key: str) -> bool:
        """Whether ``key`` (never prefixed) exists."""
        typecheck(key, "key", str)
        return self._exists(key)

    @staticmethod
    def _poll(check: Callable[[], bool], poll_frequency_ms: int, num_tries: int) -> bool:
        pause = max(int_arg(poll_frequency_ms, "poll_frequency_ms"), 0) / 1000.0
        tries = int_arg(num_tries, "num_tries")
        for attempt in range(tries):
            if check():
                return True
            if attempt < tries - 1:
                time.sleep(pause)
        return False

    @api
    def poll_key(self, key: str, poll_frequency_ms: int, num_tries: int) -> bool:
        """Check up to ``num_tries`` times, ``poll_frequency_ms`` apart, for ``key``."""
        typecheck(key, "key", str)
        return self._poll(lambda: self._exists(key), poll_frequency_ms, num_tries)

    @api
    def poll_tensor(self, name: str, poll_frequency_ms: int, num_tries: int) -> bool:
        typecheck(name, "name", str)
        key = self._keys.tensor(name, True)
        return self._poll(lambda: self._exists(key), poll_frequency_ms, num_tries)

    # --- prefixes ------------------------------------------------------------------------
    @api
    def set_data_source(self, source_id: str) -> None:
        """Read with the prefix ``source_id``, one of ``SSKEYIN``'s names."""
        typecheck(source_id, "source_id", str)
        self._keys.set_data_source(source_id)

    @api
    def use_tensor_ensemble_prefix(self, use_prefix: bool) -> None:
        typecheck(use_prefix, "use_prefix", bool)
        self._keys.use_tensor_prefix = use_prefix

    @api
    def use_dataset_ensemble_prefix(self, use_prefix: bool) -> None:
        typecheck(use_prefix, "use_prefix", bool)
        self._keys.use_dataset_prefix = use_prefix

    @api
    def use_list_ensemble_prefix(self, use_prefix: bool) -> None:
        typecheck(use_prefix, "use_prefix", bool)
        self._keys.use_list_prefix = use_prefix

    @api
    def use_model_ensemble_prefix(self, use_prefix: bool) -> None:
        """Prefix model and script keys too (off by default, as in SmartRedis)."""
        typecheck(use_prefix, "use_prefix", bool)
        self._keys.use_model_prefix = use_prefix
