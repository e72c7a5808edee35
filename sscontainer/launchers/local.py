"""Local launcher: steps run as child processes of the driver.

Each process starts from an argv list (never a shell) in its own session, so
``stop`` can signal the whole process group. Waiting uses pidfds and
``select``: the driver wakes when a child exits, not on a polling tick.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time
from collections.abc import Collection
from dataclasses import dataclass

from ..errors import LauncherError, SSUnsupportedError
from ..status import Status
from .base import JobInfo
from .step import Step


@dataclass
class _Child:
    proc: subprocess.Popen[bytes] | _Adopted
    pidfd: int | None
    cancelled: bool = False


class _Adopted:
    """A process an earlier driver started: not our child, so no exit code to collect."""

    def __init__(self, pid: int, start_ticks: str | None) -> None:
        self.pid = pid
        self.start_ticks = start_ticks
        self.returncode: int | None = None

    def poll(self) -> int | None:
        ticks = _start_ticks(self.pid)
        alive = ticks is not None and (self.start_ticks is None or ticks == self.start_ticks)
        return None if alive else 0

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout or 0.0)
            time.sleep(0.02)
        return 0


def _start_ticks(pid: int) -> str | None:
    """The process's start time (clock ticks since boot), None when gone or a zombie."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return None if fields[0] == "Z" else fields[19]


class LocalLauncher:
    """Runs steps as plain processes on this machine."""

    name = "local"

    def __init__(self) -> None:
        self._children: dict[str, _Child] = {}

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
        env = {**os.environ, **step.env}
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
        self._children[handle] = _Child(proc, _open_pidfd(proc.pid))
        return handle

    def adopt(self, handle: str, step: Step) -> None:
        pid = int(handle)
        adopted = _Adopted(pid, step.labels.get("sscontainer.pid_start"))
        pidfd = _open_pidfd(pid) if adopted.poll() is None else None
        self._children[handle] = _Child(adopted, pidfd)

    def start_ticks(self, handle: str) -> str | None:
        """Recorded with the launch so a reconnecting driver can tell a reused pid apart."""
        return _start_ticks(int(handle))

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
        child = self._child(handle)
        if child.proc.poll() is None:
            child.cancelled = True
            _signal_group(child.proc.pid, signal.SIGTERM)
            try:
                child.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                _signal_group(child.proc.pid, signal.SIGKILL)
                child.proc.wait()
        # children the entity left behind in its group go too
        _signal_group(child.proc.pid, signal.SIGKILL)
        return self.status(handle)

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


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
