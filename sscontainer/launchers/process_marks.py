"""Which processes on this machine an experiment started: an environment mark.

Every process the local launcher starts gets ``SSCONTAINER_MARK_<experiment>=<job>``
in its environment (both random tokens). Descendants inherit it, also those that
leave the process group with ``setsid`` or double-fork away from their parent, so
a stop finds them all by reading ``/proc/<pid>/environ``, as root and as a plain
user (only one's own processes are readable; others are never candidates). A
nested experiment adds its own variable and keeps the outer one.

Some programs overwrite their environment block with their process title (Redis and
Valkey do), so the descendants of every marked process count too (by parent pid,
read in the same pass), and the CLI's driver makes itself the child subreaper of
what it launches: an orphan whose parent died is then its child, not init's, and is
found as one (:func:`adopted_orphans`).

A recorded pid is only ever signalled after its start time was checked (and its mark,
where the environment still shows one): a pid reused by another process is left alone.
"""

from __future__ import annotations

import os
import secrets
import signal
import time
from collections.abc import Callable, Iterable

MARK_PREFIX = "SSCONTAINER_MARK_"
PROC = "/proc"
PR_SET_CHILD_SUBREAPER = 36  # <linux/prctl.h>
_subreaper = False  # become_subreaper() succeeded in this process
ProcessTable = dict[int, tuple[str, int, int]]  # pid -> (state, parent pid, session id)


def new_token() -> str:
    return secrets.token_hex(8)


def mark_env(experiment: str, job: str) -> dict[str, str]:
    return {MARK_PREFIX + experiment: job}


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name (state first; proc(5)),
    None when the process is gone."""
    try:
        with open(f"{PROC}/{pid}/stat", encoding="ascii", errors="replace") as handle:
            return handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def start_ticks(pid: int) -> str | None:
    """The process's start time (clock ticks since boot), None when gone or a zombie."""
    fields = _stat_fields(pid)
    if fields is None:
        return None
    return None if fields[0] in ("Z", "X") else fields[19]


def _environ(pid: int) -> bytes:
    try:
        with open(f"{PROC}/{pid}/environ", "rb") as handle:
            return b"\0" + handle.read()
    except OSError:  # gone, or another user's process: never ours
        return b""


def has_mark(pid: int, experiment: str, job: str | None = None) -> bool:
    """Whether ``pid`` carries this experiment's mark (and this job's, when given)."""
    needle = f"\0{MARK_PREFIX}{experiment}=".encode()
    env = _environ(pid)
    if job is None:
        return needle in env
    return needle + job.encode() + b"\0" in env + b"\0"


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent pid, session id) of a process, None when it is gone."""
    fields = _stat_fields(pid)
    try:  # after the command: state, ppid, pgrp, session, tty_nr
        return None if fields is None else (fields[0], int(fields[1]), int(fields[3]))
    except (IndexError, ValueError):
        return None


def snapshot() -> ProcessTable:
    """Every process on this machine: pid -> (state, parent pid, session id), one pass
    over ``/proc`` that :func:`marked` and :func:`adopted_orphans` can share."""
    found: ProcessTable = {}
    try:
        names = os.listdir(PROC)
    except OSError:
        return {}
    for name in names:
        if name.isdigit() and (info := _stat(int(name))) is not None:
            found[int(name)] = info
    return found


def _with_descendants(roots: set[int], table: ProcessTable) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid, (_state, ppid, _sid) in table.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = set(), list(roots)
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(children.get(pid, []))
    return found


def marked(
    experiments: Iterable[str],
    jobs: Iterable[str] | None = None,
    table: ProcessTable | None = None,
) -> list[int]:
    """Live pids (not this process) marked by any of ``experiments`` (and ``jobs``), with
    their descendants (whose environment may no longer show the mark); ``table``: a
    :func:`snapshot` already taken."""
    wanted = [f"\0{MARK_PREFIX}{e}=".encode() for e in experiments]
    job_set = None if jobs is None else {j.encode() for j in jobs}
    me = os.getpid()
    table = snapshot() if table is None else table
    roots = set()
    for pid in table:
        if pid == me:
            continue
        env = _environ(pid)
        for needle in wanted:
            at = env.find(needle)
            if at >= 0:
                value = env[at + len(needle):].split(b"\0", 1)[0]
                if job_set is None or value in job_set:
                    roots.add(pid)
                break
    alive = _with_descendants(roots, table) - {me}
    return sorted(p for p in alive if table.get(p, ("Z",))[0] not in ("Z", "X"))


def become_subreaper() -> bool:
    """Make this process the child subreaper of its descendants (Linux): orphans of the
    jobs it launches become its children instead of init's, so a stop still finds them."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        ok = bool(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False
    global _subreaper
    _subreaper = _subreaper or ok
    return ok


def is_subreaper() -> bool:
    return _subreaper


def _adopted(table: ProcessTable, exclude: Iterable[int]) -> set[int]:
    """This process's children in another session that are not ``exclude``: orphans it
    adopted as their subreaper (the jobs it started itself are ``exclude``)."""
    me = os.getpid()
    own_sid = os.getsid(0)
    skip = set(exclude)
    return {pid for pid, (_s, ppid, sid) in table.items()
            if ppid == me and sid != own_sid and pid not in skip}


def adopted_orphans(
    exclude: Iterable[int], table: ProcessTable | None = None
) -> list[int]:
    """Processes (and their descendants) that became this process's children because
    their parent died (see :func:`_adopted`). Only meaningful after
    :func:`become_subreaper`; ``table``: a :func:`snapshot` already taken."""
    table = snapshot() if table is None else table
    alive = _with_descendants(_adopted(table, exclude), table)
    return sorted(p for p in alive if table[p][0] not in ("Z", "X"))


def reap_orphans(exclude: Iterable[int]) -> None:
    """Collect the exit status of adopted orphans that ended (never of ``exclude``)."""
    table = snapshot()
    for pid in _adopted(table, exclude):
        if table[pid][0] == "Z":
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass


def identity_ok(pid: int, ticks: str | None, experiment: str | None, job: str | None) -> bool:
    """Whether ``pid`` is still the process that was recorded: its start time (to the
    clock tick) matches and, where its environment still shows a mark of the experiment,
    that mark is the job's. No recorded start time: never (an unverifiable pid)."""
    now = start_ticks(pid)
    if not ticks or now is None or now != ticks:
        return False
    if experiment and has_mark(pid, experiment):
        return has_mark(pid, experiment, job) if job else True
    return True


def _signal(pids: Iterable[int], sig: signal.Signals) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def sweep(
    find: Callable[[], list[int]],
    grace: float,
    note: Callable[[list[int]], None] | None = None,
) -> list[int]:
    """End every process ``find`` returns: SIGTERM, then SIGKILL after ``grace`` s, until
    ``find`` returns none (bounded). Returns the pids found at first (for a report)."""
    first = find()
    if not first:
        return []
    if note is not None:
        note(first)
    _signal(first, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and find():
        time.sleep(0.05)
    for _ in range(50):  # a process forking as fast as it is killed: bounded
        left = find()
        if not left:
            break
        _signal(left, signal.SIGKILL)
        time.sleep(0.02)
    return first


def describe(pid: int) -> str:
    """``pid (command)`` for a message."""
    try:
        with open(f"{PROC}/{pid}/cmdline", "rb") as handle:
            argv = handle.read().split(b"\0")
        command = " ".join(a.decode(errors="replace") for a in argv if a)[:60]
    except OSError:
        command = "?"
    return f"{pid} ({command})"
