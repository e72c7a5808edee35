"""Launched jobs: which launcher handle belongs to which entity, and their state."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .launchers.base import Launcher
from .launchers.step import Step
from .status import Status
from .summary import format_table

HIDDEN_TYPE = "MLWorker"  # sscontainer's inference worker beside a database shard


@dataclass
class Job:
    """One launch of one entity."""

    step: Step
    handle: str
    launcher: Launcher
    start_time: float = field(default_factory=time.time)
    status: Status = Status.RUNNING
    returncode: int | None = None
    end_time: float | None = None
    on_end: Callable[[Job], None] | None = None  # told once, when the job is seen ending
    # what proves later that a process is still this launch (start time, mark): recorded
    identity: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.step.name

    def refresh(self) -> Status:
        if not self.status.is_terminal:
            info = self.launcher.status(self.handle)
            self.status, self.returncode = info.status, info.returncode
            if self.status.is_terminal:
                self.end_time = time.time()
                if self.on_end is not None:
                    self.on_end(self)
        return self.status

    @property
    def run_time(self) -> float:
        return (self.end_time or time.time()) - self.start_time


class JobTable:
    """The jobs one experiment launched: the latest per entity, and every run in order."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._history: list[Job] = []

    def add(self, job: Job) -> None:
        self._jobs[job.name] = job
        self._history.append(job)

    def runs(self) -> list[tuple[Job, int]]:
        """Every launch with its run number per entity (SmartSim's RunID), entity by entity."""
        by_name: dict[str, list[Job]] = {}
        for job in self._history:
            by_name.setdefault(job.name, []).append(job)
        return [(job, run) for jobs in by_name.values() for run, job in enumerate(jobs)]

    def get(self, name: str) -> Job | None:
        return self._jobs.get(name)

    def all(self) -> list[Job]:
        return list(self._jobs.values())

    def running(self, names: Iterable[str] | None = None) -> list[Job]:
        jobs = self.all() if names is None else [j for n in names if (j := self._jobs.get(n))]
        return [j for j in jobs if not j.refresh().is_terminal]

    @staticmethod
    def wait_any(jobs: list[Job], timeout: float | None = None) -> list[Job]:
        """Block until one of ``jobs`` is terminal (or ``timeout``); return the terminal ones."""
        done = [j for j in jobs if j.refresh().is_terminal]
        if done or not jobs:
            return done
        by_launcher: dict[int, list[Job]] = {}
        for job in jobs:
            by_launcher.setdefault(id(job.launcher), []).append(job)
        # one launcher: wait on its events; several: bound each wait so none starves
        bound = timeout if len(by_launcher) == 1 else min(timeout or 0.2, 0.2)
        for group in by_launcher.values():
            if group[0].launcher.wait([j.handle for j in group], bound):
                break
        return [j for j in jobs if j.refresh().is_terminal]

    def wait(
        self,
        jobs: list[Job],
        interval: float | None = None,
        on_finish: Callable[[Job], None] | None = None,
        on_tick: Callable[[list[Job]], None] | None = None,
    ) -> None:
        """Block until every job in ``jobs`` is terminal, waking on job events.

        ``on_finish`` is called once per job as it ends; ``on_tick`` with the
        jobs still running when ``interval`` seconds pass with no job ending.
        """
        pending = list(jobs)
        while pending:
            done = self.wait_any(pending, interval)
            for job in done:
                if on_finish:
                    on_finish(job)
            pending = [j for j in pending if j not in done]
            if pending and not done and on_tick:
                on_tick(pending)

    def table(self, style: str = "github", planned: Iterable[tuple[str, str]] = ()) -> str:
        """SmartSim's summary table: one row per run, with an index column.

        A database's ML worker is part of the database (SmartSim's RedisAI runs inside
        the server): its row shows only when it failed by itself. ``planned`` entities
        (name, type) with no launch get a ``NeverStarted`` row.
        """
        headers = ["Name", "Entity-Type", "JobID", "RunID", "Time", "Status", "Returncode"]
        rows: list[list[object]] = [
            [
                j.name,
                j.step.entity_type,
                j.handle[:12],  # container ids: the short form docker prints
                run,
                f"{j.run_time:.4f}",
                j.refresh().value,
                "None" if j.returncode is None else j.returncode,
            ]
            for j, run in self.runs()
            if j.step.entity_type != HIDDEN_TYPE or j.refresh() == Status.FAILED
        ]
        rows += [
            [name, kind, "None", 0, "0.0000", Status.NEVER_STARTED.value, "None"]
            for name, kind in planned if name not in self._jobs
        ]
        return format_table(headers, rows, style, show_index=True)
