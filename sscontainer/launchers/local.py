"""Local launcher: steps run as child processes of the driver.

Each process starts from an argv list (never a shell) in its own session, so
``stop`` can signal the whole process group, and with the experiment's mark in
its environment (:mod:`.process_marks`), so descendants that left the group are
found too. A recorded process (``adopt``) is only signalled once its start time
and mark show it is still the one that was started. Waiting uses pidfds and
``select``: the driver wakes when a child exits, not on a polling tick.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass

from ..errors import LauncherError, SSUnsupportedError
from ..status import Status
from . import process_marks as marks
from .base import JobInfo
from .step import Step

TICKS_LABEL = "sscontainer.pid_start"
MARK_LABEL = "sscontainer.mark"  # "<experiment token>:<job token>"
Progress = Callable[[str], None]
QUIET_WAIT = 1.0  # a stop that takes longer than this says what it waits for


@dataclass
class _Child:
    proc: subprocess.Popen[bytes] | _Adopted
    pidfd: int | None
    experiment: str | None = None  # the mark's tokens (None: started before marks)
    job: str | None = None
    cancelled: bool = False
    name: str = ""  # the step's, for progress lines

    def mine(self) -> bool:
        """Whether the pid still names the process that was started (safe to signal):
        our child until it is reaped, an adopted one while its start time and mark match."""
        return self.proc.poll() is None


class _Adopted:
    """A process an earlier driver started: not our child, so no exit code to collect.

    It counts as running only while its pid shows the recorded start time and mark;
    without either recorded it is never taken for running (nor signalled).
    """

    def __init__(
        self, pid: int, start_ticks: str | None, experiment: str | None, job: str | None
    ) -> None:
        self.pid = pid
        self.start_ticks = start_ticks
        self.experiment = experiment
        self.job = job
        self.returncode: int | None = None

    def poll(self) -> int | None:
        alive = marks.identity_ok(self.pid, self.start_ticks, self.experiment, self.job)
        return None if alive else 0

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout or 0.0)
            time.sleep(0.02)
        return 0


_start_ticks = marks.start_ticks  # the name tests and older callers use


class LocalLauncher:
    """Runs steps as plain processes on this machine."""

    name = "local"

    def __init__(self) -> None:
        self._children: dict[str, _Child] = {}
        self.mark = marks.new_token()  # the experiment's token: Experiment sets its own

    def start(self, step: Step) -> str:
        if step.image is not None:
            raise SSUnsupportedError(
                f"{step.name}: the local launcher runs plain processes, not image "
                f"{step.image!r}: use launcher='docker' or 'slurm', or drop the container"
            )
        if not os.path.isdir(step.cwd):
            raise LauncherError(
                f"{step.name}: working directory {step.cwd} does not exist: create it, "
                "or call exp.generate() first"
            )
        job = marks.new_token()
        env = {**os.environ, **step.env, **marks.mark_env(self.mark, job)}
        try:
            with open(step.out, "wb") as out, open(step.err, "wb") as err:
                proc = subprocess.Popen(
                    list(step.argv),
                    cwd=step.cwd,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                    start_new_session=True,
                )
        except OSError as exc:
            raise LauncherError(f"{step.name}: could not start {step.argv[0]!r}: {exc}") from exc
        handle = str(proc.pid)
        self._children[handle] = _Child(proc, _open_pidfd(proc.pid), self.mark, job,
                                        name=step.name)
        return handle

    def adopt(self, handle: str, step: Step) -> None:
        if not handle.isdigit():
            raise LauncherError(
                f"{step.name}: {handle!r} is not a process id: the manifest was edited or "
                "damaged; nothing was signalled"
            )
        experiment, _, job = step.labels.get(MARK_LABEL, "").partition(":")
        adopted = _Adopted(
            int(handle), step.labels.get(TICKS_LABEL), experiment or None, job or None
        )
        pidfd = _open_pidfd(int(handle)) if adopted.poll() is None else None
        self._children[handle] = _Child(
            adopted, pidfd, experiment or None, job or None, name=step.name
        )

    def start_ticks(self, handle: str) -> str | None:
        """Recorded with the launch so a reconnecting driver can tell a reused pid apart."""
        return _start_ticks(int(handle))

    def identity(self, handle: str) -> dict[str, str]:
        """Labels that prove later that a pid is still this launch (start time, mark)."""
        child = self._child(handle)
        labels = {MARK_LABEL: f"{child.experiment}:{child.job}"} if child.job else {}
        ticks = _start_ticks(int(handle))
        return {**labels, TICKS_LABEL: ticks} if ticks else labels

    def _child(self, handle: str) -> _Child:
        try:
            return self._children[handle]
        except KeyError:
            raise LauncherError(f"no process with handle {handle!r} was started here") from None

    def status(self, handle: str) -> JobInfo:
        child = self._child(handle)
        code = child.proc.poll()
        if code is None:
            return JobInfo(Status.RUNNING)
        self._close_pidfd(child)
        if isinstance(child.proc, _Adopted):
            if child.cancelled:
                return JobInfo(Status.CANCELLED)
            detail = "ended; its exit code went to the driver that started it"
            return JobInfo(Status.COMPLETED, None, detail)
        if child.cancelled:
            return JobInfo(Status.CANCELLED, code)
        return JobInfo(Status.COMPLETED if code == 0 else Status.FAILED, code)

    def stop(self, handle: str, grace: float = 5.0) -> JobInfo:
        self.stop_many([handle], grace)
        return self.status(handle)

    def stop_many(
        self, handles: Collection[str], grace: float = 5.0, progress: Progress | None = None
    ) -> None:
        """Stop every job in ``handles`` within one ``grace`` period in all: SIGTERM to
        each process group, SIGKILL to the groups left at the deadline, then to every
        process still carrying one of their marks (descendants that left the group)."""
        children = [self._child(h) for h in handles]
        live = [c for c in children if c.mine()]
        for child in live:
            child.cancelled = True
            _signal_group(child.proc.pid, signal.SIGTERM)
        started = time.monotonic()
        deadline = started + grace
        pending = list(live)
        told = False
        while pending and time.monotonic() < deadline:
            if not told and progress is not None and time.monotonic() - started >= QUIET_WAIT:
                told = True  # only a slow stop is worth a line
                progress(f"waiting for {len(pending)} job(s) to end: "
                         f"{', '.join(_name(c) for c in pending[:5])} (SIGKILL at {grace:.0f} s)")
            wait_for = deadline if told or progress is None else min(
                deadline, started + QUIET_WAIT)
            self.wait([str(c.proc.pid) for c in pending], max(0.0, wait_for - time.monotonic()))
            pending = [c for c in pending if c.mine()]
        for child in pending:  # still unreaped (or verified again): the group id is theirs
            _signal_group(child.proc.pid, signal.SIGKILL)
        for child in pending:
            _reap(child)
        if pending and progress is not None:
            progress(f"{len(pending)} of {len(live)} jobs did not end on SIGTERM within "
                     f"{grace:.0f} s and were killed")
        # what the jobs left behind (their group, or setsid'd away): found by mark only,
        # never by a pid or group id that may have been reused since
        experiments = {c.experiment for c in children if c.experiment and c.job}
        jobs = {c.job for c in children if c.experiment and c.job}
        if jobs:
            marks.sweep(lambda: marks.marked(experiments, jobs), min(grace, 1.0))

    def wait(self, handles: Collection[str], timeout: float | None = None) -> set[str]:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            done = {h for h in handles if self._child(h).proc.poll() is not None}
            if done or not handles:
                return done
            fds = [c.pidfd for h in handles if (c := self._child(h)).pidfd is not None]
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            if remaining == 0.0:
                return set()
            if len(fds) == len(handles):
                select.select(fds, [], [], remaining)
            else:  # no pidfd support: a short bounded sleep instead
                time.sleep(min(0.05, remaining if remaining is not None else 0.05))

    def _close_pidfd(self, child: _Child) -> None:
        if child.pidfd is not None:
            os.close(child.pidfd)
            child.pidfd = None


def _open_pidfd(pid: int) -> int | None:
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def _name(child: _Child) -> str:
    return child.name or str(child.proc.pid)


def _reap(child: _Child) -> None:
    try:
        child.proc.wait(timeout=5.0)
    except subprocess.TimeoutExpired:
        pass  # uninterruptible (D state): status reports it running until it goes


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
