"""Checks shared by run and batch settings: argument lists, counts, hosts, executables.

Type errors derive from ``TypeError`` (SmartSim raises that), value errors from
``ValueError``; every message says what to give instead.
"""

from __future__ import annotations

import os
import shlex
import shutil
from collections.abc import Mapping
from typing import Any

from ..errors import ArgumentTypeError, ExecutableNotFoundError, SSConfigError
from ..limits import check_text, shown


def as_arg_list(args: object, what: str) -> list[str]:
    """A copy of ``args`` as a list of strings; a string is split like a shell would."""
    if args is None:
        return []
    if isinstance(args, str):
        check_text(args, what)
        try:
            return shlex.split(args)
        except ValueError as exc:
            raise SSConfigError(
                f"{what} {shown(args)} cannot be split: {exc}; pass a list"
            ) from exc
    if isinstance(args, (list, tuple)) and all(isinstance(arg, str) for arg in args):
        return [check_text(arg, what) for arg in args]
    raise ArgumentTypeError(
        f"{what} must be a string or a list of strings, got {shown(args)}: quote numbers as "
        "strings"
    )




def check_positive(value: object, what: str) -> int:
    """``value`` as a positive int (an int-like string is accepted, as SmartSim's ``int()``)."""
    number: object = value
    if isinstance(value, str) and value.strip().isdigit():
        number = int(value)
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise SSConfigError(f"{what} must be a positive integer, got {value!r}")
    return number


def check_walltime(walltime: str, what: str) -> str:
    parts = walltime.split(":") if isinstance(walltime, str) else []
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise SSConfigError(f"{what} must be 'HH:MM:SS', got {walltime!r}")
    return walltime


def check_host_list(host_list: object, what: str = "host_list") -> list[str]:
    """A host name or a list of them (SmartSim raises ``TypeError`` for anything else)."""
    hosts = [host_list.strip()] if isinstance(host_list, str) else host_list
    if not isinstance(hosts, list) or not all(isinstance(h, str) for h in hosts):
        raise ArgumentTypeError(f"{what} must be a string or a list of strings, got {host_list!r}")
    if not hosts or not all(h.strip() for h in hosts):
        raise SSConfigError(f"{what} must name at least one host, got {host_list!r}")
    return list(hosts)


def resolve_exe(exe: str, in_container: bool = False) -> str:
    """Absolute path of ``exe`` (searched on PATH when it has no slash).

    Inside a container the executable lives in the image, so it is kept as given.
    """
    if not isinstance(exe, str) or not exe.strip():
        raise ExecutableNotFoundError("exe is empty: give the program to run, e.g. exe='python'")
    if in_container:
        return exe
    if os.sep in exe:
        path = os.path.abspath(os.path.expanduser(exe))
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            raise ExecutableNotFoundError(
                f"executable {exe!r} does not exist or is not executable: check the path"
            )
        return path
    found = shutil.which(exe)
    if found is None:
        raise ExecutableNotFoundError(
            f"executable {exe!r} was not found on PATH: install it or give its full path"
        )
    return os.path.abspath(found)


def check_env(env_vars: Mapping[str, Any], allow_none: bool) -> dict[str, str | None]:
    """Validated copy of an environment mapping; values become strings."""
    if not isinstance(env_vars, Mapping):
        raise ArgumentTypeError(f"env_vars must be a dict of name -> value, got {env_vars!r}")
    out: dict[str, str | None] = {}
    for key, value in env_vars.items():
        if not isinstance(key, str) or not key or "=" in key or "\0" in key:
            raise SSConfigError(f"environment variable name {shown(key)} is not valid")
        if value is None and allow_none:
            out[key] = None  # exported from the launching environment
        elif isinstance(value, (str, int, float, bool)):
            out[key] = check_text(str(value), f"environment variable {key}")
        else:
            raise ArgumentTypeError(
                f"environment variable {key} must be a string or number, got {value!r}"
            )
    return out
