"""Lifecycle states of a launched entity (SmartSim's names and values).

``SmartSimStatus`` is the same enum: ``SmartSimStatus.STATUS_COMPLETED`` is
``Status.COMPLETED``, so SmartSim drivers compare statuses unchanged.
"""

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
    # SmartSim's member names (aliases: same value, same member)
    STATUS_NEW = "New"
    STATUS_QUEUED = "Queued"
    STATUS_RUNNING = "Running"
    STATUS_COMPLETED = "Completed"
    STATUS_FAILED = "Failed"
    STATUS_CANCELLED = "Cancelled"
    STATUS_NEVER_STARTED = "NeverStarted"
    STATUS_PAUSED = "Paused"

    def __str__(self) -> str:
        return self.value

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES


SmartSimStatus = Status

TERMINAL_STATUSES = frozenset(
    {Status.COMPLETED, Status.FAILED, Status.CANCELLED, Status.NEVER_STARTED}
)

# SmartSim's module-level names (``smartsim.status.STATUS_COMPLETED``)
STATUS_NEW = Status.NEW
STATUS_QUEUED = Status.QUEUED
STATUS_RUNNING = Status.RUNNING
STATUS_COMPLETED = Status.COMPLETED
STATUS_FAILED = Status.FAILED
STATUS_CANCELLED = Status.CANCELLED
STATUS_NEVER_STARTED = Status.NEVER_STARTED
STATUS_PAUSED = Status.PAUSED
