"""Server processes: start one, wait until it answers PING, stop it without leftovers."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import time
from collections.abc import Sequence
from typing import IO, Any

import redis

from ..errors import DatabaseError
from .address import ServerAddress

DEFAULT_READY_TIMEOUT = 30.0
_POLL_INTERVAL = 0.05
# Noise every server prints on hosts without vm.overcommit_memory=1: never "the reason".
_NOISE = ("Memory overcommit must be enabled",)


def admin_connection(
    address: ServerAddress, password: str | None = None, timeout: float = 5.0
) -> redis.Redis:
    """A plain connection to one server for control commands (bounded timeouts, no retries)."""
    common: dict[str, Any] = {
        "password": password,
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        "retry": None,  # redis-py then makes exactly one attempt
        "decode_responses": True,
    }
    if address.unix_socket is not None:
        return redis.Redis(unix_socket_path=address.unix_socket, **common)
    return redis.Redis(host=address.host, port=address.port, **common)


def ping(address: ServerAddress, password: str | None = None, timeout: float = 1.0) -> bool:
    """True when the server at ``address`` answers PING now."""
    conn = admin_connection(address, password, timeout)
    try:
        return bool(conn.ping())
    except redis.RedisError:
        return False
    finally:
        conn.close()


def server_pid(address: ServerAddress, password: str | None = None, timeout: float = 2.0) -> int:
    """The process id the server at ``address`` reports (``INFO server``)."""
    conn = admin_connection(address, password, timeout)
    try:
        info = conn.info("server")
        return int(info["process_id"])
    except (redis.RedisError, KeyError, ValueError) as exc:
        raise DatabaseError(f"could not read INFO server from {address}: {exc}") from exc
    finally:
        conn.close()


def server_token(address: ServerAddress, password: str | None = None, timeout: float = 2.0) -> str:
    """The launch token the server at ``address`` carries (``syslog-ident``: server_config)."""
    conn = admin_connection(address, password, timeout)
    try:
        reply = conn.config_get("syslog-ident")
        return str(reply.get("syslog-ident", ""))
    except redis.RedisError as exc:
        raise DatabaseError(f"could not read the launch token of {address}: {exc}") from exc
    finally:
        conn.close()


def failure_lines(log_text: str, limit: int = 5) -> str:
    """The lines of a server log that explain a failure.

    Redis/Valkey mark warnings and errors with ``#``; config errors come as a
    ``*** FATAL CONFIG FILE ERROR`` block. Falls back to the log's last lines.
    """
    lines = [line for line in log_text.splitlines() if line.strip()]
    if any("FATAL CONFIG FILE ERROR" in line for line in lines):
        start = next(i for i, line in enumerate(lines) if "FATAL CONFIG FILE ERROR" in line)
        return "\n".join(lines[start:start + 5])
    marked = [
        line for line in lines
        if (" # " in line or line.startswith("#")) and not any(n in line for n in _NOISE)
    ]
    chosen = marked[-limit:] if marked else lines[-limit:]
    return "\n".join(chosen)


def wait_until_ready(
    address: ServerAddress,
    password: str | None = None,
    timeout: float = DEFAULT_READY_TIMEOUT,
    process: ServerProcess | None = None,
) -> None:
    """Block until the server at ``address`` answers PING, at most ``timeout`` seconds.

    With ``process`` (a local server this caller started), also fail as soon as
    that process exits, and make sure the server that answers *is* that process
    (a stranger already on the port must not pass for ours).
    """
    deadline = time.monotonic() + timeout
    last_error = "no answer yet"
    while True:
        if process is not None and process.poll() is not None:
            raise DatabaseError(
                f"the database server for {address} exited with status {process.returncode} "
                f"before it was ready:\n{process.failure_lines()}"
                + (f"\n(full log: {process.log_path})" if process.log_path else "")
            )
        conn = admin_connection(address, password, timeout=1.0)
        try:
            if conn.ping():
                if process is None:
                    return
                pid = int(conn.info("server")["process_id"])
                if pid == process.pid:
                    return
                last_error = f"another server (pid {pid}) answers on {address}"
        except redis.AuthenticationError as exc:
            raise DatabaseError(
                f"the database at {address} rejected the password: {exc} "
                "(check the password you gave, or SSDB_PASSWORD)"
            ) from exc
        except redis.ResponseError as exc:
            if "NOAUTH" in str(exc) or "AUTH" in str(exc):
                raise DatabaseError(
                    f"the database at {address} requires a password: pass one "
                    "(or set SSDB_PASSWORD)"
                ) from exc
            last_error = str(exc)
        except (redis.RedisError, OSError) as exc:
            last_error = str(exc) or type(exc).__name__
        finally:
            conn.close()
        if time.monotonic() >= deadline:
            detail = ""
            if process is not None:
                detail = f"\nserver log:\n{process.failure_lines()}"
            raise DatabaseError(
                f"the database at {address} did not answer PING within {timeout:.0f} s "
                f"(last error: {last_error}){detail}"
            )
        time.sleep(_POLL_INTERVAL)


def shutdown(
    address: ServerAddress, password: str | None = None, timeout: float = 5.0
) -> None:
    """Ask the server at ``address`` to exit now without saving (``SHUTDOWN NOSAVE``).

    A server that is already gone is not an error.
    """
    conn = admin_connection(address, password, timeout)
    try:
        conn.execute_command("SHUTDOWN", "NOSAVE")  # type: ignore[no-untyped-call]
    except redis.ConnectionError:
        pass  # the server closes the connection as it exits: that is success
    except redis.ResponseError as exc:
        raise DatabaseError(f"the database at {address} refused SHUTDOWN: {exc}") from exc
    finally:
        conn.close()


def remove_stale_socket(path: str, strict: bool = True) -> None:
    """Remove a socket file no server answers on; anything else there is never touched
    (``strict``: and is an error)."""
    try:
        if not stat.S_ISSOCK(os.lstat(path).st_mode):
            if not strict:
                return
            raise DatabaseError(
                f"{path} exists and is not a socket: a database will not replace it; choose "
                "another unix_socket path"
            )
    except FileNotFoundError:
        return
    if not ping(ServerAddress(unix_socket=path), timeout=0.5):
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


class ServerProcess:
    """One local server process started from an argv (see :func:`server_argv`).

    The server runs in its own session so that a terminal's Ctrl-C reaches the
    application (which decides what to do), not the database under it.
    """

    def __init__(
        self,
        argv: Sequence[str],
        address: ServerAddress,
        log_path: str,
        password: str | None = None,
        cwd: str | None = None,
    ) -> None:
        self.argv = list(argv)
        self.address = address
        self.log_path = log_path
        self.password = password
        self.cwd = cwd
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise DatabaseError("the server process has not been started")
        return self._proc.pid

    @property
    def returncode(self) -> int | None:
        return None if self._proc is None else self._proc.returncode

    def poll(self) -> int | None:
        return None if self._proc is None else self._proc.poll()

    def start(self) -> ServerProcess:
        if self._proc is not None:
            raise DatabaseError("this server process was already started")
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        try:
            self._proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                cwd=self.cwd,
                start_new_session=True,
                close_fds=True,
            )
        except OSError as exc:
            self._log.close()
            raise DatabaseError(f"could not run {self.argv[0]}: {exc}") from exc
        return self

    def wait_ready(self, timeout: float = DEFAULT_READY_TIMEOUT) -> None:
        """Wait until this process answers PING; on failure the process is stopped."""
        try:
            wait_until_ready(self.address, self.password, timeout, process=self)
        except BaseException:
            self.stop()
            raise

    def read_log(self) -> str:
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as handle:
                return handle.read()
        except OSError:
            return ""

    def failure_lines(self) -> str:
        return failure_lines(self.read_log())

    def pin(self, cpus: Sequence[int]) -> None:
        """Bind every thread of the server to ``cpus`` (threads started later inherit it)."""
        pid = self.pid
        try:
            tids = [int(tid) for tid in os.listdir(f"/proc/{pid}/task")]
        except OSError:
            tids = [pid]
        for tid in tids:
            try:
                os.sched_setaffinity(tid, cpus)
            except ProcessLookupError:
                continue  # a thread that just ended
            except OSError as exc:
                raise DatabaseError(
                    f"could not pin the database to CPUs {list(cpus)}: {exc}"
                ) from exc

    def stop(self, grace: float = 10.0) -> None:
        """Stop the server (SIGTERM, then SIGKILL after ``grace`` seconds) and reap it."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            try:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
        if self.address.unix_socket and proc is not None and proc.returncode is not None:
            # A killed server leaves its socket file behind; a stale one confuses the next user.
            remove_stale_socket(self.address.unix_socket, strict=False)
