"""Stopping jobs: all at once, within one grace period, and nothing left behind.

Every job to stop is first recorded as cancelled (so whoever sees it end, this
driver or another one, reports ``Cancelled``), then each launcher stops its jobs
together (``stop_many``: the local launcher signals them all and waits once, Slurm
cancels them in one ``scancel``); a launcher without it stops them one by one.
Finally the processes the experiment's jobs left behind (found by their mark, see
:mod:`.launchers.process_marks`) are ended too.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor

from .errors import SSContainerError
from .jobs import Job
from .launchers import process_marks
from .manifest import mark_cancelled

DEFAULT_GRACE = 5.0
SLOW = 1.0  # seconds: a stop that takes longer reports when it is done
Progress = Callable[[str], None]


_quiet = False  # the CLI's --quiet: progress lines are left out (problems are not)


def set_quiet(quiet: bool = True) -> None:
    global _quiet
    _quiet = quiet


def stderr_line(text: str) -> None:
    """A line on stderr that cannot fail: after SIGHUP the terminal is gone (EIO), and a
    stop must not end half-way over a message nobody can read."""
    try:
        print(text, file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


def say(message: str) -> None:
    """Progress on stderr, unless the CLI was asked to be quiet."""
    if not _quiet:
        stderr_line(f"sscontainer: {message}")


def _problem(message: str) -> None:
    stderr_line(f"sscontainer: {message}")


def _stop_each(jobs: Sequence[Job], grace: float) -> None:
    for job in jobs:
        try:
            job.launcher.stop(job.handle, grace)
        except SSContainerError as exc:
            _problem(f"could not stop {job.name}: {exc}")


def stop_jobs(
    jobs: Iterable[Job],
    exp_path: str | None,
    grace: float = DEFAULT_GRACE,
    progress: Progress | None = say,
) -> list[Job]:
    """Stop every running job of ``jobs`` in one grace period; returns those stopped."""
    running = [j for j in jobs if not j.refresh().is_terminal]
    if not running:
        return []
    if exp_path is not None:
        try:
            mark_cancelled(exp_path, [(j.name, j.handle) for j in running])
        except (OSError, SSContainerError) as exc:  # a read-only experiment dir: stop anyway
            _problem(f"could not note the stop in the manifest ({exc})")
    started = time.monotonic()
    groups: dict[int, list[Job]] = {}
    for job in running:
        groups.setdefault(id(job.launcher), []).append(job)
    # one thread per launcher (a launcher's own state is not shared between threads);
    # each stops its jobs together where it can (stop_many), else one after another
    with ThreadPoolExecutor(max_workers=max(1, len(groups))) as pool:
        for group in groups.values():
            many = getattr(group[0].launcher, "stop_many", None)
            if callable(many):
                pool.submit(_stop_many, many, group, grace, progress)
            else:
                pool.submit(_stop_each, group, grace)
    for job in running:
        job.refresh()
    took = time.monotonic() - started
    if progress is not None and took >= SLOW:
        progress(f"stopped {len(running)} job(s) in {took:.1f} s")
    return running


def _stop_many(
    many: Callable[..., None], group: Sequence[Job], grace: float, progress: Progress | None
) -> None:
    try:
        many([j.handle for j in group], grace, progress)
    except SSContainerError as exc:
        _problem(f"could not stop {', '.join(j.name for j in group)}: {exc}")


def sweep_leftovers(
    marks: Iterable[str], children: Iterable[int] = (), grace: float = DEFAULT_GRACE,
    progress: Progress | None = say,
) -> list[str]:
    """End the processes carrying one of ``marks`` that outlived their jobs (a child that
    called ``setsid``, a daemon a model forked), and, in a subreaper driver, the orphans
    it adopted; ``children``: the jobs this process started (never counted as orphans).
    Returns ``pid (command)`` of each."""
    wanted = sorted({m for m in marks if m})
    exclude = set(children)
    found: list[str] = []

    def find() -> list[int]:
        table = process_marks.snapshot()  # one pass over /proc for both questions
        pids = set(process_marks.marked(wanted, table=table)) if wanted else set()
        if process_marks.is_subreaper():
            pids.update(process_marks.adopted_orphans(exclude, table))
        return sorted(pids - exclude)

    def note(pids: list[int]) -> None:
        found.extend(process_marks.describe(pid) for pid in pids)
        if progress is not None:
            shown = ", ".join(found[:5]) + (" ..." if len(found) > 5 else "")
            progress(f"stopping {len(pids)} process(es) left behind by ended jobs: {shown}")

    process_marks.sweep(find, grace, note)
    if process_marks.is_subreaper():
        process_marks.reap_orphans(exclude)
    return found
