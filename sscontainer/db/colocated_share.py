"""One colocated server per node, shared by every rank of the model on that node.

A lock file (``fcntl.flock``) serialises the ranks. Under the lock, a small
JSON state file beside it records the server's pid and the pids of the ranks
using it (the refcount is the number of those still alive, so a rank killed
with SIGKILL cannot keep the server up forever). The first rank starts the
server; the others find it in the state file and wait until it answers; the
last rank to leave stops it.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from ..errors import DatabaseError
from .address import ServerAddress, parse_address
from .server import ServerProcess, ping, remove_stale_socket, shutdown, wait_until_ready

LOCK_TIMEOUT = 120.0  # a starter holds the lock at most for its bounded ready wait


def pid_alive(pid: int) -> bool:
    """True when ``pid`` runs (a zombie, already dead but not reaped, counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            state = handle.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (OSError, IndexError):
        return True


@dataclass
class ShareState:
    server_pid: int = 0
    address: str = ""
    host: str = ""
    data_dir: str = ""
    members: list[int] = field(default_factory=list)

    @classmethod
    def read(cls, path: str) -> ShareState:
        try:
            with open(path, encoding="utf-8") as handle:
                data: dict[str, Any] = json.load(handle)
            return cls(**data)
        except (OSError, ValueError, TypeError):
            return cls()

    def write(self, path: str) -> None:
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(self.__dict__, handle)
        os.replace(tmp, path)


def _same_file(fd: int, path: str) -> bool:
    try:
        current = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (mine.st_dev, mine.st_ino) == (current.st_dev, current.st_ino)


@contextmanager
def node_lock(path: str, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (bounded wait).

    The last rank removes the lock file, so after locking we check that the
    path still names the file we locked (else we locked a removed file, and
    start over on the new one).
    """
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    deadline = time.monotonic() + timeout
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            if time.monotonic() >= deadline:
                raise DatabaseError(
                    f"could not lock {path} within {timeout:.0f} s: another rank holds it"
                ) from exc
            time.sleep(0.02)
            continue
        if _same_file(fd, path):
            break
        os.close(fd)
    try:
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _remove_data_dir(path: str) -> None:
    """Remove a server's scratch directory (only ever one we created under the temp dir)."""
    base = os.path.join(tempfile.gettempdir(), "sscontainer-colo-")
    if path and path.startswith(base):
        shutil.rmtree(path, ignore_errors=True)


def _stop_foreign_server(state: ShareState, password: str | None) -> None:
    """Stop a server another rank started: SHUTDOWN, then SIGKILL if it lingers."""
    if not state.server_pid or not pid_alive(state.server_pid):
        return
    try:
        shutdown(parse_address(state.address), password)
    except DatabaseError:
        pass
    deadline = time.monotonic() + 10.0
    while pid_alive(state.server_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if pid_alive(state.server_pid):
        try:
            os.kill(state.server_pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


class SharedServer:
    """Join (or start) the node's server on enter; leave (and maybe stop it) on exit.

    ``start`` is called under the lock by the first rank only; it must return
    a started, ready :class:`ServerProcess`. ``on_started`` (e.g. loading ML
    assets) also runs under the lock, so later ranks never see a half-loaded
    database.
    """

    def __init__(
        self,
        lock_path: str,
        address: ServerAddress,
        start: Callable[[], ServerProcess],
        on_started: Callable[[], None] | None = None,
        password: str | None = None,
        ready_timeout: float = 30.0,
    ) -> None:
        self.lock_path = lock_path
        self.state_path = lock_path + ".state"
        self.address = address
        self._start = start
        self._on_started = on_started
        self.password = password
        self.ready_timeout = ready_timeout
        self.process: ServerProcess | None = None  # set when this rank started the server
        self.server_pid = 0
        self.started_here = False

    def join(self) -> SharedServer:
        me = os.getpid()
        with node_lock(self.lock_path):
            state = ShareState.read(self.state_path)
            state.members = [pid for pid in state.members if pid != me and pid_alive(pid)]
            running = (
                state.server_pid
                and pid_alive(state.server_pid)
                and state.address == str(self.address)
                and ping(self.address, self.password)
            )
            if running:
                state.members.append(me)
                state.write(self.state_path)
                self.server_pid = state.server_pid
            else:
                self._start_fresh(state, me)
        if not self.started_here:
            wait_until_ready(self.address, self.password, self.ready_timeout)
        return self

    def _start_fresh(self, state: ShareState, me: int) -> None:
        if self.address.unix_socket:
            remove_stale_socket(self.address.unix_socket)  # of a server that died
        process = self._start()
        try:
            if self._on_started is not None:
                self._on_started()
            ShareState(
                server_pid=process.pid, address=str(self.address), host=socket.gethostname(),
                data_dir=process.cwd or "", members=[me],
            ).write(self.state_path)
        except BaseException:
            process.stop()
            _remove_data_dir(process.cwd or "")
            raise
        self.process = process
        self.started_here = True
        self.server_pid = process.pid

    def leave(self) -> bool:
        """Unregister this rank; stop the server when it was the last. True if stopped."""
        me = os.getpid()
        with node_lock(self.lock_path):
            state = ShareState.read(self.state_path)
            state.members = [pid for pid in state.members if pid != me and pid_alive(pid)]
            if state.members:
                state.write(self.state_path)
                return False
            if self.process is not None:
                self.process.stop()  # our child: stop and reap it
            _stop_foreign_server(state, self.password)  # no-op when already gone
            _remove_data_dir(state.data_dir)
            for path in (self.state_path, self.lock_path):  # nothing left behind
                try:
                    os.unlink(path)
                except FileNotFoundError:
                    pass
            return True
