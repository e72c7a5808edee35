"""What a user sees when an entity or a shard fails: where it ran, its job id, its log's end.

The same words whatever the launcher: ``consumer: Failed (exit 1) after 2.10 s (job 42 on
n2)`` under Slurm, ``(job 4711 on myhost)`` for a local process (the handle is its pid),
``(job 3f2a... on myhost)`` for a container; then the last lines of its log.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from typing import Any

TAIL_LINES = 8


def job_place(job: Any) -> str:
    """``job <handle> on <node>``: the node from the launcher when it places jobs itself."""
    node = ""
    node_of = getattr(job.launcher, "node_of", None)
    if callable(node_of):
        try:
            node = node_of(job.handle) or ""
        except Exception:  # noqa: BLE001 - a report must not fail on a scheduler hiccup
            node = ""
    else:
        node = socket.gethostname()  # local processes and containers run on this host
    handle = str(job.handle)[:12]
    return f"job {handle} on {node}" if node else f"job {handle}"


def tail(paths: Sequence[str], limit: int = TAIL_LINES) -> tuple[str, list[str]]:
    """The last non-empty lines of the first of ``paths`` that has any, and its path."""
    for path in paths:
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                lines = [line.rstrip() for line in handle if line.strip()]
        except OSError:
            continue
        if lines:
            return path, lines[-limit:]
    return "", []


def failure_report(job: Any, limit: int = TAIL_LINES) -> str:
    """Lines saying how ``job`` ended, where, and the end of its error log (else its output)."""
    code = "" if job.returncode is None else f" (exit {job.returncode})"
    text = f"{job.name}: {job.status.value}{code} after {job.run_time:.2f} s ({job_place(job)})"
    path, lines = tail([job.step.err, job.step.out], limit)
    if lines:
        text += f"; last lines of {os.path.basename(path)}:\n" + "\n".join(
            f"  | {line}" for line in lines
        ) + f"\n  (the whole log: {path})"
    else:
        text += f"; it wrote nothing to {job.step.err}"
    return text
