"""The dataset and aggregation-list half of :class:`~sscontainer.client.Client`."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, NoReturn

from ..errors import ClientError, SSConfigError
from .connection import REDIS_ERRORS
from .dataset import ACK_FIELD, Dataset
from .keys import KeyBuilder, dataset_meta_key, dataset_name_from_key, dataset_tensor_key
from .tensor_codec import as_tensor, decode, encode


class DatasetMixin:
    """Datasets (``put_dataset`` ...) and aggregation lists (``append_to_list`` ...)."""

    _redis: Any
    _keys: KeyBuilder

    def _fail(self, exc: BaseException, action: str) -> NoReturn:
        raise NotImplementedError  # provided by Client

    # --- datasets ---------------------------------------------------------------------
    def put_dataset(self, dataset: Dataset) -> None:
        """Store ``dataset``; its acknowledgement is written last, so a reader never
        sees it half-written through :meth:`dataset_exists`/:meth:`poll_dataset`."""
        if not isinstance(dataset, Dataset):
            raise SSConfigError(f"put_dataset needs a Dataset, got {type(dataset).__name__}")
        key = self._keys.dataset_key(dataset.name, for_read=False)
        meta = dataset_meta_key(key)
        fields = dataset.meta_fields()
        pipe = self._redis.pipeline(transaction=False)
        pipe.delete(meta)
        pipe.hset(meta, mapping=fields)
        for tensor_name, data in dataset.tensors().items():
            pipe.set(dataset_tensor_key(key, tensor_name), encode(as_tensor(data)))
        pipe.hset(meta, ACK_FIELD, "1")
        try:
            pipe.execute()
        except REDIS_ERRORS as exc:
            self._fail(exc, f"put_dataset({dataset.name!r})")

    def _load_dataset(self, key: str, action: str) -> Dataset:
        name = dataset_name_from_key(key)
        try:
            fields = self._redis.hgetall(dataset_meta_key(key))
        except REDIS_ERRORS as exc:
            self._fail(exc, action)
        if not fields:
            raise ClientError(f"{action}: dataset {name!r} (key {key!r}) does not exist")
        dataset, tensor_names = Dataset.from_meta(name, fields)
        if tensor_names:
            keys = [dataset_tensor_key(key, t) for t in tensor_names]
            try:
                values = self._redis.mget(keys)  # one slot thanks to the hash tag
            except REDIS_ERRORS as exc:
                self._fail(exc, action)
            for tensor_name, tensor_key, value in zip(tensor_names, keys, values, strict=True):
                if value is None:
                    raise ClientError(f"{action}: dataset tensor {tensor_key!r} is missing")
                dataset._set_tensor(tensor_name, decode(value, tensor_key))
        return dataset

    def get_dataset(self, name: str) -> Dataset:
        key = self._keys.dataset_key(name, for_read=True)
        return self._load_dataset(key, f"get_dataset({name!r})")

    def delete_dataset(self, name: str) -> None:
        key = self._keys.dataset_key(name, for_read=True)
        dataset = self._load_dataset(key, f"delete_dataset({name!r})")
        keys = [dataset_meta_key(key)]
        keys += [dataset_tensor_key(key, t) for t in dataset.get_tensor_names()]
        try:
            self._redis.delete(*keys)
        except REDIS_ERRORS as exc:
            self._fail(exc, f"delete_dataset({name!r})")

    def copy_dataset(self, src_name: str, dest_name: str) -> None:
        key = self._keys.dataset_key(src_name, for_read=True)
        dataset = self._load_dataset(key, f"copy_dataset({src_name!r}, {dest_name!r})")
        dataset._name = Dataset(dest_name).name
        self.put_dataset(dataset)

    def rename_dataset(self, old_name: str, new_name: str) -> None:
        self.copy_dataset(old_name, new_name)
        self.delete_dataset(old_name)

    def dataset_exists(self, name: str) -> bool:
        key = dataset_meta_key(self._keys.dataset_key(name, for_read=True))
        try:
            return bool(self._redis.hexists(key, ACK_FIELD))
        except REDIS_ERRORS as exc:
            self._fail(exc, f"dataset_exists({name!r})")

    def poll_dataset(self, name: str, poll_frequency_ms: int, num_tries: int) -> bool:
        return _poll(lambda: self.dataset_exists(name), poll_frequency_ms, num_tries)

    # --- aggregation lists ----------------------------------------------------------------
    def append_to_list(self, list_name: str, dataset: Dataset) -> None:
        """Add a reference to ``dataset`` (stored with :meth:`put_dataset`) to a list."""
        if not isinstance(dataset, Dataset):
            raise SSConfigError(f"append_to_list needs a Dataset, got {type(dataset).__name__}")
        list_key = self._keys.list_key(list_name, for_read=False)
        entry = self._keys.dataset_key(dataset.name, for_read=False)
        try:
            self._redis.rpush(list_key, entry)
        except REDIS_ERRORS as exc:
            self._fail(exc, f"append_to_list({list_name!r})")

    def delete_list(self, list_name: str) -> None:
        list_key = self._keys.list_key(list_name, for_read=True)
        try:
            self._redis.delete(list_key)
        except REDIS_ERRORS as exc:
            self._fail(exc, f"delete_list({list_name!r})")

    def copy_list(self, src_name: str, dest_name: str) -> None:
        src = self._keys.list_key(src_name, for_read=True)
        dest = self._keys.list_key(dest_name, for_read=False)
        if src == dest:
            return
        try:
            entries = self._redis.lrange(src, 0, -1)
            if not entries:
                raise ClientError(f"copy_list: list {src_name!r} (key {src!r}) does not exist")
            pipe = self._redis.pipeline(transaction=False)
            pipe.delete(dest)
            pipe.rpush(dest, *entries)
            pipe.execute()
        except REDIS_ERRORS as exc:
            self._fail(exc, f"copy_list({src_name!r}, {dest_name!r})")

    def rename_list(self, src_name: str, dest_name: str) -> None:
        self.copy_list(src_name, dest_name)
        if self._keys.list_key(src_name, True) != self._keys.list_key(dest_name, False):
            self.delete_list(src_name)

    def get_list_length(self, list_name: str) -> int:
        list_key = self._keys.list_key(list_name, for_read=True)
        try:
            return int(self._redis.llen(list_key))
        except REDIS_ERRORS as exc:
            self._fail(exc, f"get_list_length({list_name!r})")

    def _poll_length(
        self, name: str, list_length: int, ok: Callable[[int, int], bool],
        poll_frequency_ms: int, num_tries: int,
    ) -> bool:
        if isinstance(list_length, bool) or not isinstance(list_length, int) or list_length < 0:
            raise SSConfigError(f"list_length must be an int >= 0, got {list_length!r}")
        return _poll(
            lambda: ok(self.get_list_length(name), list_length), poll_frequency_ms, num_tries
        )

    def poll_list_length(
        self, name: str, list_length: int, poll_frequency_ms: int, num_tries: int
    ) -> bool:
        """True once list ``name`` has exactly ``list_length`` entries (bounded polling)."""
        return self._poll_length(
            name, list_length, lambda a, b: a == b, poll_frequency_ms, num_tries
        )

    def poll_list_length_gte(
        self, name: str, list_length: int, poll_frequency_ms: int, num_tries: int
    ) -> bool:
        return self._poll_length(
            name, list_length, lambda a, b: a >= b, poll_frequency_ms, num_tries
        )

    def poll_list_length_lte(
        self, name: str, list_length: int, poll_frequency_ms: int, num_tries: int
    ) -> bool:
        return self._poll_length(
            name, list_length, lambda a, b: a <= b, poll_frequency_ms, num_tries
        )

    def get_datasets_from_list(self, list_name: str) -> list[Dataset]:
        return self.get_dataset_list_range(list_name, 0, -1)

    def get_dataset_list_range(
        self, list_name: str, start_index: int, end_index: int
    ) -> list[Dataset]:
        """Datasets at positions ``start_index..end_index`` (inclusive; negative from the end)."""
        list_key = self._keys.list_key(list_name, for_read=True)
        action = f"get_dataset_list_range({list_name!r})"
        try:
            entries = self._redis.lrange(list_key, start_index, end_index)
        except REDIS_ERRORS as exc:
            self._fail(exc, action)
        return [self._load_dataset(entry.decode(), action) for entry in entries]


def _poll(check: Callable[[], bool], poll_frequency_ms: int, num_tries: int) -> bool:
    """Bounded polling shared by the ``poll_*`` methods."""
    if isinstance(poll_frequency_ms, bool) or not isinstance(poll_frequency_ms, int) or (
        poll_frequency_ms < 0
    ):
        raise SSConfigError(f"poll_frequency_ms must be an int >= 0, got {poll_frequency_ms!r}")
    if isinstance(num_tries, bool) or not isinstance(num_tries, int) or num_tries < 1:
        raise SSConfigError(f"num_tries must be a positive int, got {num_tries!r}")
    for attempt in range(num_tries):
        if check():
            return True
        if attempt < num_tries - 1:
            time.sleep(poll_frequency_ms / 1000.0)
    return False
