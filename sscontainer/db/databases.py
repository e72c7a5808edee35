"""The databases one experiment runs: who may connect said at start, stopped at exit."""

from __future__ import annotations

import atexit
import os
import secrets
import sys
from collections.abc import Callable

from ..entities.orchestrator import Orchestrator
from ..entities.steps import Placement
from ..errors import SSConfigError
from ..jobs import Job
from ..launchers.base import Launcher
from .access import exposure_warning
from .launch import start_orchestrator, stop_orchestrator


class Databases:
    """Running orchestrators by name, with the jobs of their shards."""

    def __init__(self, exp_path: str) -> None:
        self.exp_path = exp_path
        self._running: dict[str, tuple[Orchestrator, list[Job]]] = {}
        self._atexit_registered = False

    def start(
        self,
        orch: Orchestrator,
        launcher: Launcher,
        place: Placement,
        track: Callable[[Job], None],
    ) -> None:
        if orch.name in self._running and orch.is_active():
            raise SSConfigError(f"database {orch.name!r} is already running")
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
        if not self._atexit_registered:
            # a driver that forgets exp.stop(db) must not leave servers behind
            atexit.register(self.stop_all, "left running at exit")
            self._atexit_registered = True

    def password_for(self, orch: Orchestrator) -> str:
        """A per-experiment secret, kept in the experiment dir with mode 0600."""
        secret_dir = os.path.join(self.exp_path, ".sscontainer")
        os.makedirs(secret_dir, mode=0o700, exist_ok=True)
        path = os.path.join(secret_dir, f"{orch.name}.password")
        if os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                return handle.read().strip()
        password = secrets.token_urlsafe(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(password)
        return password

    def stop(self, orch: Orchestrator) -> None:
        entry = self._running.pop(orch.name, None)
        if entry is not None:
            stop_orchestrator(orch, entry[1])

    def stop_all(self, reason: str = "") -> None:
        for orch, _jobs in list(self._running.values()):
            if reason:
                print(f"sscontainer: stopping database {orch.name}: {reason}", file=sys.stderr)
            self.stop(orch)

    def env(self) -> dict[str, str]:
        """What entities need to reach every running database (SSDB and friends)."""
        env: dict[str, str] = {}
        for orch, _jobs in self._running.values():
            env.update(orch.client_env())
        return env
