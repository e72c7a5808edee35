"""Where a colocated database's Unix socket lives: a private directory, one per model.

SmartRedis cannot authenticate, so whoever can open the socket reads and writes the
model's tensors. Unless the user names a socket, it goes into a directory only its
owner may enter (mode 0700), under a name unique to the experiment's driver and the
model, so two experiments started from one directory never share a server:

- ``<exp_path>/.sscontainer/sockets/<model>-<mark>.sock`` on this machine (local and
  docker launchers: the experiment directory is where the driver runs);
- ``<tmp>/sscontainer-<uid>/<digest>.sock`` where the experiment directory is shared
  between nodes (Slurm: every node runs its own server, so the path must be
  node-local) or where the path would be too long for a socket address (108 bytes).
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile

from ..errors import SSConfigError
from ..log import get_logger

MAX_SOCKET_BYTES = 100  # sun_path holds 108 bytes; the server appends nothing, stay clear
PRIVATE_MODE = 0o700
logger = get_logger("sscontainer.db")


def private_dir(path: str) -> str:
    """Make ``path`` a directory only this user may enter (or check that it is one)."""
    try:
        os.makedirs(path, mode=PRIVATE_MODE, exist_ok=True)
        info = os.lstat(path)
    except OSError as exc:
        raise SSConfigError(f"cannot make the socket directory {path}: {exc.strerror}") from exc
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise SSConfigError(
            f"{path} is not a directory of this user (a link, a file, or another user's): "
            "sscontainer keeps colocated sockets there; remove it or set TMPDIR elsewhere"
        )
    if stat.S_IMODE(info.st_mode) != PRIVATE_MODE:
        os.chmod(path, PRIVATE_MODE)
    return path


def node_local_dir(base: str | None = None) -> str:
    """``<tmp>/sscontainer-<uid>``: private, on the node where the server runs."""
    return os.path.join(base or tempfile.gettempdir(), f"sscontainer-{os.getuid()}")


def colocated_socket(
    exp_path: str, experiment: str, mark: str, model: str, node_local: bool
) -> str:
    """The socket path of ``model``'s colocated database in this driver's experiment."""
    if not node_local:
        directory = private_dir(os.path.join(exp_path, ".sscontainer", "sockets"))
        path = os.path.join(directory, f"{model}-{mark[:8]}.sock")
        if len(path.encode()) <= MAX_SOCKET_BYTES:
            return path
    digest = hashlib.sha256(f"{exp_path}\0{experiment}\0{mark}\0{model}".encode()).hexdigest()
    for base in (tempfile.gettempdir(), "/tmp"):  # a deep TMPDIR: the system's /tmp
        path = os.path.join(node_local_dir(base), f"{digest[:20]}.sock")
        if len(path.encode()) <= MAX_SOCKET_BYTES:
            if not node_local:
                private_dir(os.path.dirname(path))
            return path
    raise SSConfigError(
        f"no socket path for {model} fits in {MAX_SOCKET_BYTES} bytes: set TMPDIR to a "
        "short path"
    )


def check_user_socket(path: str, model: str) -> None:
    """A socket path the user named must not take the place of anything else."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise SSConfigError(f"{model}: unix_socket {path}: {exc.strerror}") from exc
    if not stat.S_ISSOCK(info.st_mode):
        raise SSConfigError(
            f"{model}: unix_socket {path} exists and is not a socket: it would be replaced; "
            "choose a path where nothing is (or leave unix_socket out: sscontainer picks one)"
        )


def warn_wide_permissions(model: str, mode: int) -> None:
    """Say once that others may use a socket that has no password."""
    if mode & 0o077:
        logger.warning(
            f"{model}: socket_permissions {mode:o} let users other than you connect to its "
            "colocated database, which has no password (SmartRedis cannot send one); "
            "leave socket_permissions out for 700 (only you)"
        )
