"""Database-wide calls: node and cluster information, AI statistics, configuration,
flushing, saving and the model chunk size (SmartRedis's names, arguments and replies).

Each takes the address of a node as SmartRedis spells it (``host:port`` as the
cluster announces it, or the ``SSDB`` entry of a standalone database).
"""

from __future__ import annotations

from typing import Any

from .backend import Backend
from .checks import api, int_arg, typecheck
from .error import ArgumentTypeError, RedisRuntimeError

InfoDict = dict[str, Any]


def _addresses(addresses: object, label: str) -> list[str]:
    typecheck(addresses, label, list)
    for item in addresses:  # type: ignore[attr-defined]
        if not isinstance(item, str):
            raise ArgumentTypeError(f"Argument {label} holds {type(item)}, not only str")
    return [str(item) for item in addresses]  # type: ignore[attr-defined]


def _text(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def parse_node_info(info: str) -> dict[str, dict[str, str]]:
    """``INFO`` text as ``{section: {field: value}}`` (lines split at the first ``:``)."""
    result: dict[str, dict[str, str]] = {}
    section = ""
    for line in info.split("\r\n")[:-1]:
        if not line:
            continue
        if line.startswith("#"):
            section = line[2:]
            result.setdefault(section, {})
        else:
            name, _, value = line.partition(":")
            result.setdefault(section, {})[name] = value
    return result


def parse_cluster_info(info: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for line in info.split("\r\n")[:-1]:
        if line:
            name, _, value = line.partition(":")
            result[name] = value
    return result


def _strip_shard_prefix(value: str) -> str:
    """``{P}.name`` -> ``name`` (a cluster's per-shard model key, as SmartRedis shows it)."""
    end = value.find("}")
    if value.startswith("{") and end >= 0 and end + 2 < len(value) and value[end + 1] == ".":
        return value[end + 2:]
    return value


class AdminMixin:
    """``get_db_node_info``, ``config_get``, ``flush_db``, ``save``..."""

    _db: Backend
    _model_chunk_size: int

    @api
    def get_db_node_info(self, addresses: list[str]) -> list[InfoDict]:
        """``INFO EVERYTHING`` of each node, as ``{section: {field: value}}``."""
        return [parse_node_info(_text(self._db.call_at(a, "INFO", "EVERYTHING")))
                for a in _addresses(addresses, "addresses")]

    @api
    def get_db_cluster_info(self, addresses: list[str]) -> list[InfoDict]:
        """``CLUSTER INFO`` of each node (a Redis Cluster only)."""
        checked = _addresses(addresses, "addresses")
        if not self._db.is_cluster:
            raise RedisRuntimeError("Cannot run on non-cluster environment")
        return [parse_cluster_info(_text(self._db.call_at(a, "CLUSTER", "INFO")))
                for a in checked]

    @api
    def get_ai_info(self, address: list[str], key: str, reset_stat: bool = False
                    ) -> list[InfoDict]:
        """``AI.INFO`` statistics of model or script ``key`` (not prefixed) on each node."""
        checked = _addresses(address, "address")
        typecheck(key, "key", str)
        typecheck(reset_stat, "reset_stat", bool)
        result = []
        for node in checked:
            stored: Any = key
            if self._db.is_cluster:
                stored = self._db.shard_at(node).key(key)  # type: ignore[attr-defined]
            args = ["AI.INFO", stored, *(["RESETSTAT"] if reset_stat else [])]
            reply = self._db.call_at(node, *args)
            if not isinstance(reply, list):
                raise RedisRuntimeError(
                    f"The AI.INFO reply is not a list of statistics: {_text(reply)!r}"
                )
            if len(reply) % 2:
                raise RedisRuntimeError("The AI.INFO reply structure has an unexpected format")
            info: InfoDict = {}
            for name, value in zip(reply[0::2], reply[1::2], strict=True):
                text = _text(value)
                if self._db.is_cluster and isinstance(value, bytes):
                    text = _strip_shard_prefix(text)
                info[_text(name)] = text
            result.append(info)
        return result

    @api
    def flush_db(self, addresses: list[str]) -> None:
        """Delete every key of each node (``FLUSHDB``)."""
        for node in _addresses(addresses, "addresses"):
            self._db.call_at(node, "FLUSHDB")

    @api
    def config_get(self, expression: str, address: str) -> dict[str, str]:
        """``CONFIG GET expression`` on the node ``address``."""
        typecheck(expression, "expression", str)
        typecheck(address, "address", str)
        reply = self._db.call_at(address, "CONFIG", "GET", expression)
        return {_text(k): _text(v) for k, v in zip(reply[0::2], reply[1::2], strict=True)}

    @api
    def config_set(self, config_param: str, value: str, address: str) -> None:
        """``CONFIG SET config_param value`` on the node ``address``."""
        typecheck(config_param, "config_param", str)
        typecheck(value, "value", str)
        typecheck(address, "address", str)
        self._db.call_at(address, "CONFIG", "SET", config_param, value)

    @api
    def save(self, addresses: list[str]) -> None:
        """``SAVE`` (a synchronous snapshot) on each node."""
        for node in _addresses(addresses, "addresses"):
            self._db.call_at(node, "SAVE")

    @api
    def set_model_chunk_size(self, chunk_size: int) -> None:
        """Set the database's ``MODEL_CHUNK_SIZE`` and use it for this client's models."""
        size = int_arg(chunk_size, "chunk_size")
        self._db.call_any("AI.CONFIG", "MODEL_CHUNK_SIZE", size)
        self._model_chunk_size = size
