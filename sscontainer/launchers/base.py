"""The launcher protocol: where a Step runs (local processes, Docker, Slurm)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from ..status import Status
from .step import Step


@dataclass(frozen=True)
class JobInfo:
    """What a launcher knows about one launched step."""

    status: Status
    returncode: int | None = None
    detail: str = ""  # launcher-specific explanation (e.g. the scheduler's reason)


@runtime_checkable
class Launcher(Protocol):
    """Runs steps and reports on them; one instance per experiment."""

    name: str

    def start(self, step: Step) -> str:
        """Launch ``step`` and return its handle (pid, job id or container id)."""
        ...

    def status(self, handle: str) -> JobInfo:
        """Current state of a launched step, without blocking."""
        ...

    def stop(self, handle: str, grace: float = 5.0) -> JobInfo:
        """Stop the step: ask politely, then force after ``grace`` seconds."""
        ...

    def adopt(self, handle: str, step: Step) -> None:
        """Take over a step an earlier driver launched (found in the manifest)."""
        ...

    def wait(self, handles: Collection[str], timeout: float | None = None) -> set[str]:
        """Block until at least one of ``handles`` is terminal (or ``timeout``).

        Returns the handles that are terminal now (possibly empty on timeout).
        Implementations wait on events where they can, not on fixed sleeps.
        """
        ...
