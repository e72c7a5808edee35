"""The colocated supervisor: database + application in one process tree.

    python -m sscontainer.db.colocated --config FILE.json -- APP [ARGS...]

1. joins the node's server (the first rank starts it, see ``colocated_share``),
   pinned to its CPUs, and waits until it answers;
2. loads the model's ML assets when the config names an assets file;
3. runs the application with ``SSDB`` and ``SR_DB_TYPE=Standalone`` set,
   forwarding SIGINT/SIGTERM/SIGHUP/SIGUSR1/SIGUSR2 to it (the application runs in
   its own process group, so each signal reaches it exactly once);
4. leaves the server (the last rank stops it), also when the application crashes;
5. exits with the application's exit code (128+N when signal N killed it).

Exit codes of its own: 2 for a bad command line or config, 1 when the database
could not be started, 127 when the application cannot be executed.
"""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from types import FrameType

from ..errors import DatabaseError, SSConfigError, SSContainerError
from .address import ServerAddress
from .binary import find_server_binary
from .colocated_config import ColocatedConfig
from .colocated_share import SharedServer
from .pinning import resolve_pinning
from .server import DEFAULT_READY_TIMEOUT, ServerProcess
from .server_config import ShardConfig, server_argv, write_config
from .socket_dir import node_local_dir, private_dir

FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2)
ASSETS_MODULE = "sscontainer.ml.assets"


class SupervisorInterrupted(Exception):
    """A signal arrived before the application was running: clean up and exit."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"interrupted by signal {signum}")
        self.signum = signum


def _say(config: ColocatedConfig, message: str) -> None:
    if config.debug:
        print(f"[sscontainer.db.colocated {os.getpid()}] {message}", file=sys.stderr, flush=True)


def shard_config(config: ColocatedConfig, data_dir: str) -> ShardConfig:
    """The server settings for a colocated database."""
    loglevel = "verbose" if config.debug else "notice"
    if config.transport == "uds":
        return ShardConfig(
            port=0, unix_socket=config.unix_socket,
            socket_permissions=config.socket_permissions, data_dir=data_dir,
            loglevel=loglevel, extra=config.server_conf,
        )
    return ShardConfig(
        port=config.port, bind=(config.host,), data_dir=data_dir, loglevel=loglevel,
        extra=config.server_conf,
    )


def server_address(config: ColocatedConfig) -> ServerAddress:
    if config.transport == "uds":
        return ServerAddress(unix_socket=config.unix_socket)
    return ServerAddress(host=config.host, port=config.port)


def start_server(config: ColocatedConfig, cpus: Sequence[int] | None) -> ServerProcess:
    """Start the colocated server, pinned to ``cpus``, and wait until it answers."""
    binary = find_server_binary(config.server_binary)
    data_dir = tempfile.mkdtemp(prefix="sscontainer-colo-")
    shard = shard_config(config, data_dir)
    if shard.unix_socket:  # private: the socket has no password (db/socket_dir.py)
        folder = os.path.dirname(shard.unix_socket)
        os.makedirs(folder, mode=0o700, exist_ok=True)
        if os.path.basename(folder) == os.path.basename(node_local_dir()):
            private_dir(folder)  # ours alone, not another user's made in advance
    conf_path = write_config(shard, os.path.join(data_dir, "server.conf"))
    log_path = config.log_path or os.path.join(data_dir, "server.log")
    if config.log_path:
        os.makedirs(os.path.dirname(os.path.abspath(log_path)), exist_ok=True)
    process = ServerProcess(
        server_argv(binary, conf_path), shard.address, log_path=log_path, cwd=data_dir
    ).start()
    process.wait_ready(DEFAULT_READY_TIMEOUT)
    if cpus:
        try:
            process.pin(cpus)
        except DatabaseError:
            process.stop()
            raise
    _say(config, f"server pid {process.pid} ready at {shard.address} (CPUs {cpus or 'any'})")
    return process


def load_assets(config: ColocatedConfig) -> None:
    """Load the model's ML assets into the fresh database (only when an assets file is named)."""
    if not config.assets_file:
        return
    try:
        module = importlib.import_module(ASSETS_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name not in (ASSETS_MODULE, "sscontainer.ml"):
            raise
        raise DatabaseError(
            f"the colocated config names ML assets ({config.assets_file}) but {ASSETS_MODULE} "
            "is not available in this sscontainer installation: drop the ML models/scripts "
            "from the colocated model or install a version with ML support"
        ) from exc
    from ..client.direct import connect

    client = connect(config.ssdb, cluster=False)
    try:
        module.load_assets(client, config.assets_file)
    finally:
        client.close()
    _say(config, f"loaded ML assets from {config.assets_file}")


def app_env(config: ColocatedConfig) -> dict[str, str]:
    """The app reaches its own server through ``SSDB`` (as SmartSim, ``SSDB_<id>`` too
    when the colocated database has a ``db_identifier``)."""
    env = dict(os.environ)
    env["SSDB"] = config.ssdb
    env["SR_DB_TYPE"] = "Standalone"
    env.pop("SSDB_PASSWORD", None)  # that was a standard database's; this one has none
    if config.db_identifier:
        env[f"SSDB_{config.db_identifier}"] = config.ssdb
        env[f"SR_DB_TYPE_{config.db_identifier}"] = "Standalone"
    return env


def _executable(program: str) -> bool:
    if os.sep in program:
        return os.path.isfile(program) and os.access(program, os.X_OK)
    return shutil.which(program) is not None


def exit_code(returncode: int) -> int:
    """A child's return code as a shell would report it (128+N for signal N)."""
    return 128 - returncode if returncode < 0 else returncode


class Supervisor:
    """Runs one rank: shared server around one application process."""

    def __init__(self, config: ColocatedConfig, app_argv: Sequence[str]) -> None:
        if not app_argv:
            raise SSConfigError("no application given: use ... --config FILE -- APP [ARGS...]")
        self.config = config
        self.app_argv = list(app_argv)
        self.app: subprocess.Popen[bytes] | None = None
        self.cleaning = False
        self.pending: int | None = None
        self.ml_workers: list[subprocess.Popen[bytes]] = []  # [ml] inference workers

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.app is None and not self.cleaning:
            raise SupervisorInterrupted(signum)  # unwinds through the cleanup below
        if self.app is not None and self.app.poll() is None:
            self.app.send_signal(signum)
        else:
            self.pending = signum  # the application is done: finish cleaning up first

    def run(self) -> int:
        for signum in FORWARDED_SIGNALS:
            signal.signal(signum, self._on_signal)
        if not _executable(self.app_argv[0]):
            # fail before starting a database nobody would use
            print(
                f"sscontainer.db.colocated: cannot run {self.app_argv[0]!r}: not an executable "
                "file (or not found on PATH)",
                file=sys.stderr,
            )
            return 127
        cpus = resolve_pinning(self.config.custom_pinning, self.config.db_cpus)
        shared = SharedServer(
            self.config.lock_path,
            server_address(self.config),
            start=lambda: start_server(self.config, cpus),
            on_started=lambda: self._on_started(cpus),  # [ml] workers, then assets
        )
        try:
            shared.join()
            return self._run_app()
        finally:
            self.cleaning = True
            stopped = shared.leave()
            _say(self.config, "stopped the server" if stopped else "left the shared server")
            self._stop_ml_workers(stopped)  # [ml]

    # --- [ml] inference workers beside the server (sscontainer.ml.hooks) -----------------
    def _on_started(self, cpus: Sequence[int] | None) -> None:
        from ..ml.hooks import start_colocated_workers

        self.ml_workers = start_colocated_workers(self.config, cpus)
        try:
            load_assets(self.config)
        except BaseException:
            self._stop_ml_workers(True)
            raise

    def _stop_ml_workers(self, server_stopped: bool) -> None:
        from ..ml.hooks import stop_colocated_workers

        stop_colocated_workers(self.ml_workers, server_stopped)
        self.ml_workers = []

    def _run_app(self) -> int:
        try:
            self.app = subprocess.Popen(
                self.app_argv, env=app_env(self.config), process_group=0
            )
        except OSError as exc:
            print(
                f"sscontainer.db.colocated: cannot run {self.app_argv[0]!r}: {exc.strerror}",
                file=sys.stderr,
            )
            return 127
        _say(self.config, f"application pid {self.app.pid}: {' '.join(self.app_argv)}")
        return exit_code(self.app.wait())


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    app_argv: list[str] = []
    if "--" in args:
        split = args.index("--")
        args, app_argv = args[:split], args[split + 1:]
    parser = argparse.ArgumentParser(
        prog="python -m sscontainer.db.colocated",
        description="Run an application beside its own database (colocated model).",
        usage="%(prog)s --config FILE.json -- APP [ARGS...]",
    )
    parser.add_argument("--config", required=True, help="ColocatedConfig JSON file")
    options = parser.parse_args(args)
    if not app_argv:
        parser.error("no application given after '--'")
    supervisor: Supervisor | None = None
    try:
        config = ColocatedConfig.load(options.config)
        supervisor = Supervisor(config, app_argv)
        return supervisor.run()
    except SupervisorInterrupted as exc:
        return 128 + exc.signum
    except SSConfigError as exc:
        print(f"sscontainer.db.colocated: configuration error: {exc}", file=sys.stderr)
        return 2
    except SSContainerError as exc:
        print(f"sscontainer.db.colocated: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
