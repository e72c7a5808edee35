"""Grouping jobs for one model into batches (RedisAI's BATCHSIZE semantics).

Jobs for the same model version whose inputs agree in number, dtype and every
dimension but the first are concatenated along the first dimension while the total
stays within ``batch_size``. With ``min_batch_size`` set, a group waits (at most
``min_batch_timeout`` ms from its oldest job) until it holds that many samples.
Scripts and models stored with ``batch_size=0`` run one job at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .jobs import Array, Job
from .jobs import batchable as _batchable


class Batcher:
    """Holds taken jobs until their group is ready to run."""

    def __init__(self) -> None:
        self._groups: dict[tuple[bytes, str], list[Job]] = {}

    def __len__(self) -> int:
        return sum(len(items) for items in self._groups.values())

    def __bool__(self) -> bool:
        return bool(self._groups)

    def add(self, job: Job) -> None:
        self._groups.setdefault(job.asset, []).append(job)

    def clear(self) -> None:
        """Forget every held job (the server failed them: the connection was lost)."""
        self._groups.clear()

    def _waiting(self, items: list[Job], now: float) -> bool:
        first = items[0]
        if not _batchable(first) or not first.min_batch_size:
            return False
        if sum(i.samples for i in items) >= first.min_batch_size:
            return False
        return now - first.arrived < first.min_batch_timeout / 1000.0

    def wait_time(self, now: float) -> float | None:
        """Seconds until a waiting group must run anyway (None: nothing waits)."""
        waits = [
            items[0].arrived + items[0].min_batch_timeout / 1000.0 - now
            for items in self._groups.values()
            if self._waiting(items, now)
        ]
        return max(0.0, min(waits)) if waits else None

    def take_ready(self, now: float) -> list[list[Job]]:
        """The batches to run now, oldest group first; waiting groups stay."""
        ready: list[list[Job]] = []
        for group_key, items in list(self._groups.items()):
            if self._waiting(items, now):
                continue
            del self._groups[group_key]
            if _batchable(items[0]):
                ready.extend(pack(items, items[0].batch_size))
            else:
                ready.extend([item] for item in items)
        return ready


def pack(items: Sequence[Job], batch_size: int) -> list[list[Job]]:
    """Greedy, in arrival order: same-signature jobs fill a batch up to ``batch_size``."""
    open_batches: dict[tuple[Any, ...], tuple[list[Job], int]] = {}
    done: list[list[Job]] = []
    for item in items:
        signature = item.signature()
        if signature is None or item.samples >= batch_size:
            done.append([item])
            continue
        batch, total = open_batches.get(signature, ([], 0))
        if batch and total + item.samples > batch_size:
            done.append(batch)
            batch, total = [], 0
        batch.append(item)
        open_batches[signature] = (batch, total + item.samples)
    done.extend(batch for batch, _total in open_batches.values())
    return done


def concat_inputs(batch: Sequence[Job]) -> list[Array]:
    """Input ``i`` of every job, joined along the first dimension."""
    return [
        np.concatenate([item.inputs[i] for item in batch], axis=0)
        for i in range(len(batch[0].inputs))
    ]


def split_outputs(outputs: Sequence[Array], batch: Sequence[Job]) -> list[list[Array]]:
    """Each job's slice of every output; ValueError when an output is not batched."""
    sizes = [item.samples for item in batch]
    total = sum(sizes)
    bounds = np.cumsum(sizes)[:-1]
    per_item: list[list[Array]] = [[] for _ in batch]
    for out in outputs:
        if out.ndim == 0 or out.shape[0] != total:
            raise ValueError(
                f"an output of shape {out.shape} does not follow the batch of {total}"
            )
        for index, part in enumerate(np.split(out, bounds, axis=0)):
            per_item[index].append(np.ascontiguousarray(part))
    return per_item
