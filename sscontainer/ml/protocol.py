"""How clients and inference workers talk through Redis.

Each worker serves one device beside one shard and pops requests from its own
list ``__ssc.ml.req.<device>{<tag>}``. The tag is chosen so that the key lives
on the worker's shard: in a Redis Cluster it is the first ``ssc<i>`` whose hash
slot that shard owns (client and worker compute it from the same slot map), in a
standalone database it is ``ssc``. A client sends a request to the worker of the
shard that holds the model's key, so the worker beside the model serves it; the
worker reads inputs and writes outputs through a cluster-aware connection, so
tensors may live on any shard.

The worker answers on ``__ssc.ml.rep.<id>{<tag>}`` (one short-lived list per
request, which the client BLPOPs), proves it is alive by refreshing
``__ssc.ml.alive.<device>{<tag>}`` and counts batches in ``__ssc.ml.stats{<tag>}``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from redis.crc import key_slot

from ..errors import ClientError

PREFIX = "__ssc.ml"
STANDALONE_TAG = "ssc"
REPLY_TTL_S = 60  # an answer nobody collects (the caller gave up) disappears
ALIVE_TTL_MS = 5000
HEARTBEAT_S = 1.0
MAX_TAG_SEARCH = 1 << 20


def queue_key(device: str, tag: str) -> str:
    return f"{PREFIX}.req.{device}{{{tag}}}"


def reply_key(request_id: str, tag: str) -> str:
    return f"{PREFIX}.rep.{request_id}{{{tag}}}"


def alive_key(device: str, tag: str) -> str:
    return f"{PREFIX}.alive.{device}{{{tag}}}"


def stats_key(tag: str) -> str:
    return f"{PREFIX}.stats{{{tag}}}"


def tag_for(owns_slot: Callable[[int], bool]) -> str:
    """The first ``ssc<i>`` whose slot ``owns_slot`` accepts (a few tries per shard)."""
    for i in range(MAX_TAG_SEARCH):
        tag = f"ssc{i}"
        if owns_slot(key_slot(tag.encode())):
            return tag
    raise ClientError("no hash tag maps to this shard: does it own any slot?")


def ranges_of(slots_reply: Sequence[Any], node_id: bytes | str) -> list[tuple[int, int]]:
    """The slot ranges ``CLUSTER SLOTS`` gives the primary ``node_id``."""
    wanted = node_id.encode() if isinstance(node_id, str) else node_id
    ranges = []
    for entry in slots_reply:
        primary = entry[2]
        ident = primary[2] if len(primary) > 2 else b""
        ident = ident.encode() if isinstance(ident, str) else ident
        if ident == wanted:
            ranges.append((int(entry[0]), int(entry[1])))
    return ranges


def in_ranges(ranges: Iterable[tuple[int, int]]) -> Callable[[int], bool]:
    spans = list(ranges)
    return lambda slot: any(lo <= slot <= hi for lo, hi in spans)


@dataclass
class Request:
    """One run: a model (``fn`` empty) or a script function, inputs -> outputs (keys)."""

    key: str
    inputs: list[str]
    outputs: list[str]
    reply: str = ""
    fn: str = ""
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def is_script(self) -> bool:
        return bool(self.fn)

    def encode(self) -> bytes:
        return json.dumps(
            {"id": self.id, "key": self.key, "fn": self.fn, "in": self.inputs,
             "out": self.outputs, "reply": self.reply},
            separators=(",", ":"),
        ).encode()

    @classmethod
    def decode(cls, raw: bytes) -> Request:
        data = json.loads(raw)
        return cls(
            key=str(data["key"]), inputs=[str(k) for k in data["in"]],
            outputs=[str(k) for k in data["out"]], reply=str(data["reply"]),
            fn=str(data.get("fn", "")), id=str(data["id"]),
        )


def encode_reply(error: str = "", batch: int = 1) -> bytes:
    return json.dumps({"ok": not error, "error": error, "batch": batch}).encode()


def decode_reply(raw: bytes) -> tuple[bool, str, int]:
    """``(ok, error message, batch size the request ran in)``."""
    data = json.loads(raw)
    return bool(data["ok"]), str(data.get("error", "")), int(data.get("batch", 1))
