"""Datasets and aggregation lists: the part of :class:`Client` that stores them.

A dataset ``N`` is the hash ``P{N}.meta`` (typed metadata buffers, ``.tensor_names``
and, written last, ``.COMPLETE``) plus one tensor ``P{N}.<tensor>`` each. An
aggregation list is a plain list of dataset keys ``P{N}``. Commands and their
order are SmartRedis's, so both clients read each other's datasets and lists.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .backend import Backend, check_reply
from .checks import api, int_arg, typecheck
from .dataset import Dataset
from .error import ParameterError, RedisKeyError, RedisRuntimeError
from .keys import META_SUFFIX, KeyBuilder, dataset_name_of_entry
from .metadata import ACK_FIELD
from .tensor_reply import decode, tensorget_args, tensorset_args
from .wire import Arg


def _pairs(reply: Any) -> list[tuple[bytes, bytes]]:
    if not isinstance(reply, list) or len(reply) % 2:
        raise RedisRuntimeError(
            "The DataSet metadata reply contains the wrong number of elements."
        )
    return list(zip(reply[0::2], reply[1::2], strict=True))


def _check_pipeline(replies: Sequence[Any]) -> list[Any]:
    for reply in replies:
        check_reply(reply, pipeline=True)
    return list(replies)


class DatasetMixin:
    """``put_dataset``... and ``append_to_list``... (SmartRedis's names and behaviour)."""

    _db: Backend
    _keys: KeyBuilder
    _poll: Callable[[Callable[[], bool], int, int], bool]
    _copy_tensor_key: Callable[[str | bytes, str | bytes], None]

    # --- datasets ----------------------------------------------------------------------
    @staticmethod
    def _meta_commands(dataset: Dataset, meta: str) -> list[list[Arg]]:
        fields: list[Arg] = ["HMSET", meta]
        for name, buffer in dataset.serialized_fields():
            fields += [name, buffer]
        return [["DEL", meta], fields]

    @staticmethod
    def _ack_command(meta: str) -> list[Arg]:
        return ["HSET", meta, ACK_FIELD, "1"]

    @api
    def put_dataset(self, dataset: Dataset) -> None:
        """Store ``dataset``; its ``.COMPLETE`` mark is written last."""
        typecheck(dataset, "dataset", Dataset)
        name = dataset.get_name()
        meta = self._keys.dataset_meta(name, False)
        commands = self._meta_commands(dataset, meta)
        for tensor_name, array in dataset.tensors().items():
            commands.append(tensorset_args(self._keys.dataset_tensor(name, tensor_name, False),
                                           array))
        commands.append(self._ack_command(meta))
        _check_pipeline(self._db.pipeline(meta, commands))

    def _stored_dataset(self, name: str, missing: type[Exception], message: str,
                        as_name: str | None = None) -> Dataset:
        """Dataset ``name``'s metadata (no tensors), named ``as_name`` (default ``name``);
        ``missing(message)`` when it is not stored."""
        meta = self._keys.dataset_meta(name, True)
        pairs = _pairs(self._db.call(meta, "HGETALL", meta))
        if not pairs:
            raise missing(message)
        return Dataset.from_fields(name if as_name is None else as_name, pairs)

    @api
    def get_dataset(self, name: str) -> Dataset:
        typecheck(name, "name", str)
        dataset = self._stored_dataset(
            name, RedisKeyError, f'The requested DataSet, "{name}", does not exist.')
        names = dataset.stored_tensor_names()
        if names:
            keys = [self._keys.dataset_tensor(name, t, True) for t in names]
            replies = self._db.pipeline(keys[0], [tensorget_args(k) for k in keys])
            for tensor_name, reply in zip(names, replies, strict=True):
                dataset._set_tensor(tensor_name, decode(reply))
        return dataset

    @api
    def delete_dataset(self, name: str) -> None:
        typecheck(name, "name", str)
        self._delete_dataset(name)

    def _delete_dataset(self, name: str) -> None:
        dataset = self._stored_dataset(
            name, RedisRuntimeError, f"The requested DataSet {name} does not exist.")
        meta = self._keys.dataset_meta(name, True)
        keys = [self._keys.dataset_tensor(name, t, True) for t in dataset.stored_tensor_names()]
        self._db.call(meta, "DEL", meta, *keys)

    def _copy_dataset(self, src_name: str, dest_name: str) -> None:
        dataset = self._stored_dataset(
            src_name, RedisKeyError, f"The requested DataSet {src_name} does not exist.",
            as_name=dest_name)
        for tensor_name in dataset.stored_tensor_names():
            self._copy_tensor_key(self._keys.dataset_tensor(src_name, tensor_name, True),
                                  self._keys.dataset_tensor(dest_name, tensor_name, False))
        meta = self._keys.dataset_meta(dest_name, False)
        commands = [*self._meta_commands(dataset, meta), self._ack_command(meta)]
        _check_pipeline(self._db.pipeline(meta, commands))

    @api
    def copy_dataset(self, src_name: str, dest_name: str) -> None:
        typecheck(src_name, "src_name", str)
        typecheck(dest_name, "dest_name", str)
        self._copy_dataset(src_name, dest_name)

    @api
    def rename_dataset(self, old_name: str, new_name: str) -> None:
        typecheck(old_name, "old_name", str)
        typecheck(new_name, "new_name", str)
        self._copy_dataset(old_name, new_name)
        self._delete_dataset(old_name)

    def _dataset_exists(self, name: str) -> bool:
        meta = self._keys.dataset_meta(name, True)
        return bool(self._db.call(meta, "HEXISTS", meta, ACK_FIELD))

    @api
    def dataset_exists(self, name: str) -> bool:
        """Whether dataset ``name`` was completely stored (its ``.COMPLETE`` mark exists)."""
        typecheck(name, "name", str)
        return self._dataset_exists(name)

    @api
    def poll_dataset(self, name: str, poll_frequency_ms: int, num_tries: int) -> bool:
        typecheck(name, "name", str)
        return self._poll(lambda: self._dataset_exists(name), poll_frequency_ms, num_tries)

    # --- aggregation lists -----------------------------------------------------------------
    @api
    def append_to_list(self, list_name: str, dataset: Dataset) -> None:
        """Add a reference to ``dataset`` (stored with ``put_dataset``) to the list."""
        typecheck(list_name, "list_name", str)
        typecheck(dataset, "dataset", Dataset)
        key = self._keys.list(list_name, False)
        self._db.call(key, "RPUSH", key, self._keys.dataset(dataset.get_name(), False))

    def _delete_list(self, list_name: str) -> None:
        key = self._keys.list(list_name, True)
        self._db.call(key, "DEL", key)

    @api
    def delete_list(self, list_name: str) -> None:
        typecheck(list_name, "list_name", str)
        self._delete_list(list_name)

    @staticmethod
    def _check_names(src_name: str, dest_name: str) -> None:
        typecheck(src_name, "src_name", str)
        typecheck(dest_name, "dest_name", str)
        if not src_name:
            raise ParameterError("The src_name parameter cannot be an empty string.")
        if not dest_name:
            raise ParameterError("The dest_name parameter cannot be an empty string.")

    def _entries(self, key: str, start: int, end: int) -> list[bytes]:
        entries = self._db.call(key, "LRANGE", key, start, end)
        if not isinstance(entries, list):
            raise RedisRuntimeError("An unexpected type was returned for the aggregation list.")
        for index, entry in enumerate(entries):
            if not isinstance(entry, bytes):
                raise RedisRuntimeError(
                    f"Element {index} in the aggregation list has an unexpected type."
                )
            if not entry:
                raise RedisRuntimeError(
                    f"Element {index} contains an empty key, which is not permitted."
                )
        return entries

    def _copy_list(self, src_name: str, dest_name: str) -> None:
        entries = self._entries(self._keys.list(src_name, True), 0, -1)
        if not entries:
            raise RedisRuntimeError("The source aggregation list does not exist.")
        self._delete_list(dest_name)
        dest = self._keys.list(dest_name, False)
        self._db.call(dest, "RPUSH", dest, *entries)

    @api
    def copy_list(self, src_name: str, dest_name: str) -> None:
        self._check_names(src_name, dest_name)
        if src_name != dest_name:
            self._copy_list(src_name, dest_name)

    @api
    def rename_list(self, src_name: str, dest_name: str) -> None:
        self._check_names(src_name, dest_name)
        if src_name != dest_name:
            self._copy_list(src_name, dest_name)
            self._delete_list(src_name)

    def _list_length(self, list_name: str) -> int:
        key = self._keys.list(list_name, True)
        length = self._db.call(key, "LLEN", key)
        if not isinstance(length, int) or length < 0:
            raise RedisRuntimeError(f"An unexpected value was returned for list length: {length}")
        return length

    @api
    def get_list_length(self, list_name: str) -> int:
        typecheck(list_name, "list_name", str)
        return self._list_length(list_name)

    def _poll_length(self, name: str, list_length: int, poll_frequency_ms: int,
                     num_tries: int, ok: Callable[[int, int], bool]) -> bool:
        typecheck(name, "name", str)
        wanted = int_arg(list_length, "list_length")
        int_arg(poll_frequency_ms, "poll_frequency_ms")
        int_arg(num_tries, "num_tries")
        if wanted < 0:
            raise ParameterError("A positive value for list_length must be provided.")
        return self._poll(lambda: ok(self._list_length(name), wanted), poll_frequency_ms,
                          num_tries)

    @api
    def poll_list_length(self, name: str, list_length: int, poll_frequency_ms: int,
                         num_tries: int) -> bool:
        """True once list ``name`` has exactly ``list_length`` entries."""
        return self._poll_length(name, list_length, poll_frequency_ms, num_tries,
                                 lambda a, b: a == b)

    @api
    def poll_list_length_gte(self, name: str, list_length: int, poll_frequency_ms: int,
                             num_tries: int) -> bool:
        return self._poll_length(name, list_length, poll_frequency_ms, num_tries,
                                 lambda a, b: a >= b)

    @api
    def poll_list_length_lte(self, name: str, list_length: int, poll_frequency_ms: int,
                             num_tries: int) -> bool:
        return self._poll_length(name, list_length, poll_frequency_ms, num_tries,
                                 lambda a, b: a <= b)

    @api
    def get_datasets_from_list(self, list_name: str) -> list[Dataset]:
        typecheck(list_name, "list_name", str)
        return self._list_range(list_name, 0, -1)

    @api
    def get_dataset_list_range(self, list_name: str, start_index: int,
                               end_index: int) -> list[Dataset]:
        """The datasets at positions ``start_index..end_index`` (inclusive; negative
        positions count from the end), as Redis's ``LRANGE``."""
        typecheck(list_name, "list_name", str)
        return self._list_range(list_name, int_arg(start_index, "start_index"),
                                int_arg(end_index, "end_index"))

    def _list_range(self, list_name: str, start: int, end: int) -> list[Dataset]:
        if not list_name:
            raise ParameterError("The list name must have length greater than zero")
        entries = [e.decode(errors="surrogateescape")
                   for e in self._entries(self._keys.list(list_name, True), start, end)]
        metas = self._db.scattered([(e + META_SUFFIX, ("HGETALL", e + META_SUFFIX))
                                    for e in entries])
        datasets = []
        wanted: list[tuple[Dataset, str, str]] = []
        for entry, reply in zip(entries, metas, strict=True):
            check_reply(reply, pipeline=True)
            dataset = Dataset.from_fields(dataset_name_of_entry(entry), _pairs(reply))
            datasets.append(dataset)
            wanted += [(dataset, t, f"{entry}.{t}") for t in dataset.stored_tensor_names()]
        tensors = self._db.scattered([(key, tensorget_args(key)) for _, _, key in wanted])
        for (dataset, tensor_name, _), reply in zip(wanted, tensors, strict=True):
            dataset._set_tensor(tensor_name, decode(reply))
        return datasets
