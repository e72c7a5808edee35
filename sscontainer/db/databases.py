"""The databases one experiment runs: who may connect said at start, stopped at exit.

Each started database writes its checkpoint file (``orch.checkpoint_file``) so a
later driver can ``reconnect`` to it. A database still running when its driver
exits is stopped then, unless ``SSCONTAINER_LEAVE_DATABASES=1`` keeps it (SmartSim
never stops one by itself). Database jobs (shards and their ML
workers) carry the ``sscontainer.db`` label: ``poll`` and ``start(block=True)``
wait for every other job, never for them, as SmartSim does.
"""

from __future__ import annotations

import atexit
import os
import secrets
import sys
from collections.abc import Callable

from ..entities.orchestrator import Orchestrator
from ..entities.steps import Placement
from ..errors import DatabaseError, SSDBIDConflictError
from ..jobs import Job
from ..launchers.base import Launcher
from ..manifest import adopt_entry
from .access import exposure_warning
from .checkpoint import read_checkpoint, write_checkpoint
from .launch import start_orchestrator, stop_orchestrator

DB_LABEL = "sscontainer.db"
# set (1/true/yes): databases outlive a driver that exits without stopping them, as in
# SmartSim, so a later driver can reconnect_orchestrator(checkpoint) to them
LEAVE_ENV = "SSCONTAINER_LEAVE_DATABASES"


def is_database_job(job: Job) -> bool:
    """True for a database shard or its ML worker (jobs a user stops, never waits for)."""
    return DB_LABEL in job.step.labels


class Databases:
    """Running orchestrators by identifier, with the jobs of their shards."""

    def __init__(self, exp_path: str) -> None:
        self.exp_path = exp_path
        self._running: dict[str, tuple[Orchestrator, list[Job]]] = {}
        self._adopted: set[str] = set()  # reconnected: left running when this driver exits
        self._atexit_registered = False

    def running_ids(self) -> set[str]:
        """Identifiers of the databases running now (ended ones are forgotten)."""
        for name, (orch, jobs) in list(self._running.items()):
            if all(job.refresh().is_terminal for job in jobs):
                orch._set_running([])
                del self._running[name]
        return set(self._running)

    def running(self) -> list[Orchestrator]:
        ids = self.running_ids()
        return [orch for name, (orch, _jobs) in self._running.items() if name in ids]

    def check_identifier(self, db_identifier: str) -> None:
        """A database or colocated database may not reuse a running database's identifier."""
        if db_identifier and db_identifier in self.running_ids():
            raise SSDBIDConflictError(
                f"Database identifier {db_identifier} has already been used. Pass in a unique "
                "name for db_identifier (or stop that database first)"
            )

    def start(
        self,
        orch: Orchestrator,
        launcher: Launcher,
        place: Placement,
        track: Callable[[Job], None],
    ) -> None:
        self.check_identifier(orch.db_identifier)
        isolated = getattr(launcher, "isolated", None)
        private_network = callable(isolated) and isolated(place.labels)
        if private_network:
            # its own network: other containers reach it there, so it listens on every
            # interface of its container (the docker launcher's password rule: db/access.py)
            orch.bind_override = "0.0.0.0"
        if orch.needs_password and not orch.password:
            orch.password = self.password_for(orch)
        jobs = start_orchestrator(orch, launcher, orch.path, place=place)
        warning = exposure_warning(orch.name, orch.addresses, orch.password, private_network)
        if warning:
            print(warning, file=sys.stderr, flush=True)
        for job in jobs:
            track(job)
        self._running[orch.name] = (orch, jobs)
        password_file = self._password_path(orch) if orch.password else None
        write_checkpoint(orch.checkpoint_file, orch, jobs, password_file)
        self._stop_at_exit()

    def _stop_at_exit(self) -> None:
        if not self._atexit_registered:
            # a driver that forgets exp.stop(db) must not leave servers behind
            atexit.register(self.stop_all, "left running at exit")
            self._atexit_registered = True

    def _password_path(self, orch: Orchestrator) -> str:
        return os.path.join(self.exp_path, ".sscontainer", f"{orch.name}.password")

    def password_for(self, orch: Orchestrator) -> str:
        """A per-experiment secret, kept in the experiment dir with mode 0600."""
        path = self._password_path(orch)
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        if os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                return handle.read().strip()
        password = secrets.token_urlsafe(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(password)
        return password

    def reconnect(
        self, checkpoint: str, launcher_for: Callable[[str], Launcher]
    ) -> tuple[Orchestrator, list[Job]]:
        """Adopt the running database a checkpoint file describes (from an earlier driver).

        It is stopped by ``stop`` like one started here, but not at this driver's
        exit: it was running before this driver and is left as it was found.
        """
        data = read_checkpoint(checkpoint)
        self.check_identifier(data["db_identifier"])
        orch = Orchestrator(
            path=data["path"],
            port=data["port"],
            db_nodes=data["db_nodes"],
            db_identifier=data["db_identifier"],
        )
        orch.interfaces = list(data["interfaces"])
        if data.get("password_file"):
            with open(data["password_file"], encoding="utf-8") as handle:
                orch.password = handle.read().strip()
        jobs = [adopt_entry(entry, launcher_for(entry.launcher)) for entry in data["jobs"]]
        orch._set_running(data["addresses"])
        if not orch.is_active():
            orch._set_running([])
            raise DatabaseError(
                f"the database in {checkpoint} is not running (it does not answer at "
                f"{', '.join(str(a) for a in data['addresses'])}): start a new one"
            )
        self._running[orch.name] = (orch, jobs)
        self._adopted.add(orch.name)
        self._stop_at_exit()
        return orch, jobs

    def stop(self, orch: Orchestrator) -> None:
        entry = self._running.pop(orch.name, None)
        self._adopted.discard(orch.name)
        if entry is not None:
            stop_orchestrator(entry[0], entry[1])
            if entry[0] is not orch:
                orch._set_running([])

    def stop_all(self, reason: str = "") -> None:
        leave = os.environ.get(LEAVE_ENV, "").lower() in ("1", "true", "yes")
        for orch, _jobs in list(self._running.values()):
            if reason and orch.name in self._adopted:
                continue
            if reason and leave:
                print(f"sscontainer: leaving database {orch.name} running ({LEAVE_ENV}); "
                      f"reconnect with its checkpoint {orch.checkpoint_file}", file=sys.stderr)
                continue
            if reason:
                print(f"sscontainer: stopping database {orch.name}: {reason}", file=sys.stderr)
            self.stop(orch)

    def env(self) -> dict[str, str]:
        """What entities need to reach every running database (SSDB and friends)."""
        env: dict[str, str] = {}
        for orch, _jobs in self._running.values():
            env.update(orch.client_env())
        return env
