"""Lifecycle states of a launched entity (SmartSim's names and values)."""

from __future__ import annotations

from enum import Enum


class Status(str, Enum):
    NEW = "New"
    QUEUED = "Queued"
    RUNNING = "Running"
    COMPLETED = "Completed"
    FAILED = "Failed"
    CANCELLED = "Cancelled"
    NEVER_STARTED = "NeverStarted"
    PAUSED = "Paused"

    def __str__(self) -> str:
        return self.value

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset(
    {Status.COMPLETED, Status.FAILED, Status.CANCELLED, Status.NEVER_STARTED}
)
