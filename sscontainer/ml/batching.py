"""Grouping requests for one model into batches (RedisAI's BATCHSIZE semantics).

Requests for the same model version whose inputs agree in number, dtype and
every dimension but the first are concatenated along the first dimension while
the total stays within ``batch_size``. With ``min_batch_size`` set, a group waits
(at most ``min_batch_timeout`` ms from its oldest request) until it holds that many
samples. Scripts and models stored with ``batch_size=0`` run one request at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .protocol import Request
from .store import StoredMeta

Array = np.ndarray[Any, Any]


@dataclass
class Pending:
    """A request whose model settings and input tensors have been read."""

    request: Request
    meta: StoredMeta
    inputs: list[Array]
    arrived: float  # time.monotonic() when the worker took it

    @property
    def samples(self) -> int:
        """Its size along the batch dimension (what counts against ``batch_size``)."""
        first = self.inputs[0] if self.inputs else None
        return 1 if first is None or first.ndim == 0 else int(first.shape[0])

    def signature(self) -> tuple[Any, ...] | None:
        """What must agree for requests to share a batch (None: cannot be batched)."""
        if not self.inputs or any(a.ndim == 0 for a in self.inputs):
            return None
        return tuple((a.dtype.str, a.shape[1:]) for a in self.inputs)


def _batchable(meta: StoredMeta) -> bool:
    return not meta.is_script and meta.batch_size > 0


class Batcher:
    """Holds taken requests until their group is ready to run."""

    def __init__(self) -> None:
        self._groups: dict[tuple[str, str], list[Pending]] = {}

    def __len__(self) -> int:
        return sum(len(items) for items in self._groups.values())

    def add(self, item: Pending) -> None:
        self._groups.setdefault((item.request.key, item.meta.version), []).append(item)

    def _waiting(self, items: list[Pending], now: float) -> bool:
        meta = items[0].meta
        if not _batchable(meta) or not meta.min_batch_size:
            return False
        if sum(i.samples for i in items) >= meta.min_batch_size:
            return False
        return now - items[0].arrived < meta.min_batch_timeout / 1000.0

    def wait_time(self, now: float) -> float | None:
        """Seconds until a waiting group must run anyway (None: nothing waits)."""
        waits = [
            items[0].arrived + items[0].meta.min_batch_timeout / 1000.0 - now
            for items in self._groups.values()
            if self._waiting(items, now)
        ]
        return max(0.0, min(waits)) if waits else None

    def take_ready(self, now: float) -> list[list[Pending]]:
        """The batches to run now, oldest group first; waiting groups stay."""
        ready: list[list[Pending]] = []
        for group_key, items in list(self._groups.items()):
            if self._waiting(items, now):
                continue
            del self._groups[group_key]
            if _batchable(items[0].meta):
                ready.extend(pack(items, items[0].meta.batch_size))
            else:
                ready.extend([item] for item in items)
        return ready


def pack(items: Sequence[Pending], batch_size: int) -> list[list[Pending]]:
    """Greedy, in arrival order: same-signature requests fill a batch up to ``batch_size``."""
    open_batches: dict[tuple[Any, ...], tuple[list[Pending], int]] = {}
    done: list[list[Pending]] = []
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


def concat_inputs(batch: Sequence[Pending]) -> list[Array]:
    """Input ``i`` of every request, joined along the first dimension."""
    return [
        np.concatenate([item.inputs[i] for item in batch], axis=0)
        for i in range(len(batch[0].inputs))
    ]


def split_outputs(outputs: Sequence[Array], batch: Sequence[Pending]) -> list[list[Array]]:
    """Each request's slice of every output; ValueError when an output is not batched."""
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
