"""One orchestrator shard with its inference workers (``python -m sscontainer.db.shard``).

Run as a workload manager's job (Slurm) or as a container's command (the docker
launcher). A job cannot know in advance where it lands, so with ``--interface`` it
resolves the interface on *that* node (``auto``: the node's own address; see
:mod:`.nodes`) and binds the server there; without it the server binds as its config
says. It starts the inference worker(s) beside the server, and once the server answers
PING writes ``host:port`` into ``--address-file`` (atomically, when given) for the
driver. It ends with the server's exit status: SIGTERM/SIGINT (``scancel``, ``docker
stop``) go to the server, and the workers are stopped once it is gone. Every line it
writes names the shard, its node and its job, so a failure read far from the node still
says where it happened.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from types import FrameType

from ..errors import SSContainerError
from .address import ServerAddress
from .binary import find_server_binary
from .nodes import node_bind_address
from .server import ping

WORKER_GRACE = 5.0


def _directive(lines: list[str], key: str) -> str | None:
    for line in lines:
        words = shlex.split(line)
        if words and words[0] == key:
            return " ".join(words[1:])
    return None


def shard_address(path: str, interface: str | None) -> tuple[ServerAddress, str | None, str]:
    """(address, password, how chosen) of the config at ``path``. With ``interface``, its
    bind is first rewritten to that interface's address on this node; without, it stays
    as configured (a wildcard bind is reached on loopback)."""
    with open(path, encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    if interface is None:
        host = (_directive(lines, "bind") or "127.0.0.1").split()[0]
        host, how = ("127.0.0.1" if host in ("0.0.0.0", "*") else host), "as configured"
    else:
        host, how = node_bind_address(interface)
        lines = [f"bind {host}" if line.startswith("bind ") else line for line in lines]
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC)  # keeps its 0600 mode: it may hold a password
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
    port = int(_directive(lines, "port") or 0)
    return ServerAddress(host=host, port=port), _directive(lines, "requirepass"), how


def write_address(path: str, address: ServerAddress) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(str(address))
    os.replace(tmp, path)


def where() -> str:
    """``node n1, job 42`` (the job id only under a workload manager)."""
    job = os.environ.get("SLURM_JOB_ID")
    task = os.environ.get("SLURM_ARRAY_TASK_ID")
    text = f"node {socket.gethostname()}"
    if job:
        text += f", job {job}" + (f"_{task}" if task else "")
    return text


def start_workers(
    address: ServerAddress, password: str | None, devices: Sequence[str],
    threads: dict[str, int], log_path: str | None,
) -> list[subprocess.Popen[bytes]]:
    """The inference workers (ml/processes.py's command), in this job's process group.

    Not in a session of their own: the scheduler ends a job by its process group, and
    a worker outside it would outlive the job on the node.
    """
    from ..ml.devices import worker_env
    from ..ml.processes import PASSWORD_ENV, worker_argv

    procs = []
    for device in devices:
        env = {**os.environ, **worker_env(device)}
        if password:
            env[PASSWORD_ENV] = password
        argv = worker_argv(str(address), device, PASSWORD_ENV if password else None, threads)
        log = open(log_path, "ab") if log_path else None  # noqa: SIM115 - closed below
        try:
            procs.append(subprocess.Popen(
                argv, env=env, stdin=subprocess.DEVNULL,
                stdout=log or subprocess.DEVNULL, stderr=log or subprocess.DEVNULL,
            ))
        finally:
            if log is not None:
                log.close()
    return procs


def stop_workers(procs: Sequence[subprocess.Popen[bytes]]) -> None:
    from ..ml.processes import stop_workers as stop

    stop(procs, WORKER_GRACE)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sscontainer.db.shard")
    parser.add_argument("--config", required=True, help="the shard's server config file")
    parser.add_argument("--address-file", default=None, help="where to write host:port")
    parser.add_argument("--interface", default=None,
                        help="network interface to bind, or auto (default: as configured)")
    parser.add_argument("--name", default="shard", help="the shard's name, for messages")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for PING")
    parser.add_argument("--ml-device", action="append", default=[],
                        help="run an inference worker for this device (repeatable)")
    parser.add_argument("--ml-log", default=None, help="the workers' log file")
    parser.add_argument("--intra-op-threads", type=int, default=0)
    parser.add_argument("--inter-op-threads", type=int, default=0)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    me = f"shard {args.name} ({where()})"

    def say(text: str) -> None:
        print(f"{me}: {text}", file=sys.stderr, flush=True)

    try:
        address, password, how = shard_address(args.config, args.interface)
    except SSContainerError as exc:
        say(str(exc))
        return 2
    say(f"binds {address} ({how})")
    server = subprocess.Popen([find_server_binary(), args.config])

    def forward(signum: int, _frame: FrameType | None) -> None:
        if server.poll() is None:
            server.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    deadline = time.monotonic() + args.timeout
    while server.poll() is None and not ping(address, password):
        if time.monotonic() >= deadline:
            say(f"no PING from {address} within {args.timeout:.0f} s")
            server.terminate()
            return server.wait() or 1
        time.sleep(0.05)
    workers: list[subprocess.Popen[bytes]] = []
    try:
        if server.poll() is None:
            threads = {"intra_op_threads": args.intra_op_threads,
                       "inter_op_threads": args.inter_op_threads}
            workers = start_workers(address, password, args.ml_device, threads, args.ml_log)
            if args.address_file:
                write_address(args.address_file, address)
        code = server.wait()
    finally:
        stop_workers(workers)
    if code:
        say(f"the server exited with status {code}")
    return code


if __name__ == "__main__":
    sys.exit(main())
