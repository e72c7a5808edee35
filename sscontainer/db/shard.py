"""One orchestrator shard run by a workload manager (``python -m sscontainer.db.shard``).

The driver cannot know where a batch job lands, so the job starts the server
itself, binds it to ``--interface`` on *that* node, and once the server answers
PING writes ``host:port`` into ``--address-file`` (atomically). The driver reads
the file and hands the address to the models it starts afterwards. The job
ends with the server's exit status; SIGTERM (``scancel``) is passed on.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import subprocess
import sys
import time
from types import FrameType

from .address import ServerAddress, interface_address
from .binary import find_server_binary
from .server import ping


def _directive(lines: list[str], key: str) -> str | None:
    for line in lines:
        words = shlex.split(line)
        if words and words[0] == key:
            return " ".join(words[1:])
    return None


def localize_config(path: str, interface: str) -> tuple[ServerAddress, str | None]:
    """Bind the config at ``path`` to ``interface`` here; returns the address and password."""
    with open(path, encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    host = interface_address(interface)
    lines = [f"bind {host}" if line.startswith("bind ") else line for line in lines]
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC)  # keeps its 0600 mode: it holds the password
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    port = int(_directive(lines, "port") or 0)
    return ServerAddress(host=host, port=port), _directive(lines, "requirepass")


def write_address(path: str, address: ServerAddress) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(str(address))
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sscontainer.db.shard")
    parser.add_argument("--config", required=True, help="the shard's server config file")
    parser.add_argument("--address-file", required=True, help="where to write host:port")
    parser.add_argument("--interface", default="lo", help="network interface to bind")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for PING")
    args = parser.parse_args(argv)

    address, password = localize_config(args.config, args.interface)
    server = subprocess.Popen([find_server_binary(), args.config])

    def forward(signum: int, _frame: FrameType | None) -> None:
        server.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    deadline = time.monotonic() + args.timeout
    while server.poll() is None and not ping(address, password):
        if time.monotonic() >= deadline:
            print(f"shard: no PING from {address} within {args.timeout:.0f} s", file=sys.stderr)
            server.terminate()
            return server.wait() or 1
        time.sleep(0.05)
    if server.poll() is None:
        write_address(args.address_file, address)
    return server.wait()


if __name__ == "__main__":
    sys.exit(main())
