"""Run a loaded plan: start entities as their ``after`` dependencies complete."""

from __future__ import annotations

import time
from collections.abc import Callable

import click

from ..entities.ensemble import models_of
from ..failures import failure_report
from ..interrupts import DriverTerminated
from ..jobs import Job
from ..launchers.process_marks import become_subreaper, is_subreaper, reap_orphans
from ..manifest import record_plan
from ..status import Status
from ..stopping import stderr_line
from .loader import Plan

Echo = Callable[[str], None]
INTERRUPTED = 130  # what a shell reports for Ctrl-C




def run_plan(plan: Plan, echo: Echo, quiet: bool = False, interval: float = 10.0) -> bool:
    """Start every entity once its dependencies completed; True when all completed.

    An entity whose dependency did not complete is never started (NEVER_STARTED).
    """
    exp = plan.exp
    waiting = dict(plan.after)
    outcome: dict[str, Status] = {}
    running: list[Job] = []
    started = time.monotonic()

    def note(job: Job) -> None:
        if job.status == Status.FAILED:  # where, which job, the end of its log: even with -q
            echo(failure_report(job))
        elif not quiet:
            code = "" if job.returncode is None else f" (exit {job.returncode})"
            echo(f"{job.name}: {job.status.value}{code} after {job.run_time:.2f} s")

    try:
        while waiting or running:
            for name in [n for n, deps in waiting.items() if all(d in outcome for d in deps)]:
                deps = waiting.pop(name)
                entity = plan.entities[name]
                if any(outcome[d] != Status.COMPLETED for d in deps):
                    outcome[name] = Status.NEVER_STARTED
                    if not quiet:
                        echo(f"{name}: NeverStarted (a dependency did not complete)")
                    continue
                exp.start(entity, block=False)
                running.extend(j for m in models_of([entity]) if (j := exp.jobs.get(m.name)))
            if not running:
                continue
            done = exp.jobs.wait_any(running, interval)
            if is_subreaper():  # orphans of the entities that ended meanwhile: no zombies
                reap_orphans(int(j.handle) for j in exp.jobs.all() if j.handle.isdigit())
            if not done and not quiet:  # progress while nothing ends
                finished = sum(1 for j in exp.jobs.all() if j.status.is_terminal)
                names = ", ".join(f"{j.name} ({j.status.value})" for j in running)
                echo(f"[{time.monotonic() - started:6.1f} s] {finished} ended; waiting on {names}")
            for job in done:
                note(job)
            exp._flush_outputs()
            running = [j for j in running if j not in done]
            for name, entity in plan.entities.items():
                if name in outcome or name in waiting:
                    continue
                jobs = [exp.jobs.get(m.name) for m in models_of([entity])]
                if all(j is not None and j.status.is_terminal for j in jobs):
                    statuses = {j.status for j in jobs if j is not None}
                    outcome[name] = (
                        Status.COMPLETED if statuses == {Status.COMPLETED} else Status.FAILED
                    )
    except BaseException:  # Ctrl-C, SIGTERM, an error: nothing launched is left running
        exp.stop(*[e for n, e in plan.entities.items() if n not in outcome and n not in waiting])
        raise
    return all(s == Status.COMPLETED for s in outcome.values()) and len(outcome) == len(
        plan.entities
    )


def run_to_end(plan: Plan, quiet: bool = False, echo: Echo = click.echo) -> int:
    """Start the database, run the plan, stop what is left; the command's exit status.

    Every entity is recorded as planned first, so ``status`` lists those that never
    started. At the end the database is retired (a database that served the whole
    run ends Completed) and processes the entities left behind are ended and named.
    """
    exp = plan.exp
    become_subreaper()  # orphans of what it launches stay findable (process_marks)
    planned = [(m.name, m.entity_type) for m in models_of(plan.entities.values())]
    exp._planned = planned
    exp._state_write(lambda: record_plan(exp.exp_path, exp.name, planned))
    exp._place_sockets(m for m in models_of(plan.entities.values()))  # checked now
    code = 1
    try:
        if plan.database is not None:
            exp.start(plan.database)
            if not quiet:
                echo(f"database {plan.database.name} is up at "
                     f"{', '.join(plan.database.get_address())}")
        code = 0 if run_plan(plan, echo, quiet=quiet) else 1
    except KeyboardInterrupt:
        stderr_line("sscontainer: interrupted: every launched entity was stopped")
        code = INTERRUPTED
    except DriverTerminated as exc:
        stderr_line(f"sscontainer: terminated by {exc.signame}: every launched entity was "
                    "stopped")
        code = int(exc.code or 1)
    finally:
        if plan.database is not None:
            exp._retire(plan.database)
        for leftover in exp._sweep():
            stderr_line(f"sscontainer: warning: stopped {leftover}, left running by an ended "
                        "entity")
    try:  # after SIGHUP the terminal may be gone: the exit status still tells
        echo(exp.summary())
        echo(f"outputs: {exp.exp_path}")
    except OSError:
        pass
    return code
