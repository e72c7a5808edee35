"""The client side of a run: find the worker beside the model, send, wait for the answer.

A request goes to the CPU worker of the shard holding the model's key (that
worker forwards GPU models to the worker of their device). Sending and the first
wait share one round trip. Waiting is done in bounded BLPOPs; between them the
worker's heartbeat is checked, so a missing or dead worker is an error within
``WORKER_GRACE_S`` instead of a silent hang.
"""

from __future__ import annotations

import time
from typing import Any

from redis.crc import key_slot

from ..errors import ClientError
from .devices import CPU
from .protocol import (
    STANDALONE_TAG,
    Request,
    alive_key,
    decode_reply,
    queue_key,
    reply_key,
    tag_for,
)
from .wire import execute

DEFAULT_RUN_TIMEOUT_S = 300.0
WORKER_GRACE_S = 10.0  # a worker that is still starting gets this long to show up
WAIT_CHUNK_S = 1.0


def shard_tag(conn: Any, cluster: bool, key: str) -> str:
    """The queue tag of the shard that holds ``key``."""
    if not cluster:
        return STANDALONE_TAG
    slots = conn.nodes_manager.slots_cache
    try:
        owner = slots[key_slot(key.encode())][0].name
        return tag_for(lambda slot: bool(slots[slot][0].name == owner))
    except (KeyError, IndexError) as exc:
        raise ClientError(f"the cluster map does not cover the slot of {key!r}") from exc


def run_request(
    conn: Any,
    cluster: bool,
    request: Request,
    action: str,
    socket_timeout: float,
    run_timeout: float = DEFAULT_RUN_TIMEOUT_S,
    worker_grace: float = WORKER_GRACE_S,
) -> int:
    """Send ``request`` and wait for its answer; returns the batch size it ran in.

    Raises :class:`ClientError` with the worker's message when the run failed, when
    no worker serves the shard (none seen for ``worker_grace`` s), or after
    ``run_timeout`` seconds.
    """
    tag = shard_tag(conn, cluster, request.key)
    request.reply = reply_key(request.id, tag)
    queue = queue_key(CPU, tag)
    payload = request.encode()
    chunk = max(0.01, min(WAIT_CHUNK_S, socket_timeout / 2))
    start = time.monotonic()
    pushed, answer = execute(conn, [("RPUSH", queue, payload), ("BLPOP", request.reply, chunk)])
    if isinstance(pushed, Exception):
        raise pushed
    missing_since: float | None = None
    while answer is None:
        now = time.monotonic()
        if now - start > run_timeout:
            conn.lrem(queue, 1, payload)  # nobody will wait for it any more
            raise ClientError(f"{action}: no answer from the inference worker in {run_timeout:g} s")
        if conn.exists(alive_key(CPU, tag)):
            missing_since = None
        else:
            missing_since = missing_since or now
            if now - missing_since > worker_grace:
                conn.lrem(queue, 1, payload)
                raise ClientError(
                    f"{action}: no inference worker serves the shard holding {request.key!r} "
                    "(none started, or it died): databases started by sscontainer run one per "
                    "shard; for a database you started yourself run "
                    "'python -m sscontainer.ml.worker --address HOST:PORT' beside each shard"
                )
        answer = conn.blpop([request.reply], timeout=chunk)
    ok, error, batch = decode_reply(answer[1])
    if not ok:
        raise ClientError(f"{action}: {error}")
    return batch
