"""Checks for every value that ends up inside a Dockerfile or an Apptainer definition.

Values are either rejected here (with an SSConfigError that says how to fix them)
or written by the renderers with quoting that a shell and Docker's parser undo
exactly. Nothing that passes these checks can end a ``RUN``/``%post`` line,
start a new instruction or section, or expand a variable.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from ..errors import SSConfigError

# Debian package names (policy 5.6.1), optionally "=version" or ":arch".
_APT = re.compile(r"[a-z0-9][a-z0-9+.-]+(:[a-z0-9-]+)?(=[A-Za-z0-9.+~:-]+)?")
# A PEP 508 name with optional extras and version clauses; no markers, URLs or spaces.
_PIP_NAME = r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?"
_PIP = re.compile(
    _PIP_NAME
    + r"(\[" + _PIP_NAME + r"(," + _PIP_NAME + r")*\])?"
    + r"((==|!=|<=|>=|~=|===|<|>)[A-Za-z0-9.*+!_-]+(,(==|!=|<=|>=|~=|===|<|>)[A-Za-z0-9.*+!_-]+)*)?"
)
_ENV_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_LABEL_KEY = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?")
# One path component inside an image: no quoting is ever needed for these.
_COMPONENT = re.compile(r"[A-Za-z0-9_.@+,=-]+")
_STAGE = re.compile(r"[a-z][a-z0-9_-]*")
# Docker image reference: [host[:port]/]path[:tag][@digest], lower-case path.
_IMAGE = re.compile(
    r"([A-Za-z0-9.-]+(:[0-9]+)?/)?"
    r"[a-z0-9]+([._-]+[a-z0-9]+)*(/[a-z0-9]+([._-]+[a-z0-9]+)*)*"
    r"(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?"
    r"(@sha256:[a-f0-9]{64})?"
)
_REPO_PART = re.compile(r"[^a-z0-9]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def apt_package(name: object, where: str = "apt") -> str:
    """A Debian package name such as ``redis-server`` or ``libfoo1=1.2-3``."""
    if not isinstance(name, str) or not _APT.fullmatch(name):
        raise SSConfigError(
            f"{where}: {name!r} is not a Debian package name: use lower-case names like "
            "'redis-server' (optionally '=VERSION'), one package per entry"
        )
    return name


def pip_requirement(req: object, where: str = "pip") -> str:
    """A requirement such as ``numpy``, ``torch>=2.1`` or ``pkg[extra]==1.0``."""
    if not isinstance(req, str) or not _PIP.fullmatch(req):
        raise SSConfigError(
            f"{where}: {req!r} is not a supported pip requirement: write NAME[extras]"
            "[==VERSION,...] without spaces, markers or URLs, or give the path of a .whl file"
        )
    return req


def env_key(key: object, where: str = "env") -> str:
    if not isinstance(key, str) or not _ENV_KEY.fullmatch(key):
        raise SSConfigError(
            f"{where}: {key!r} is not a valid environment variable name: "
            "use letters, digits and '_', not starting with a digit"
        )
    return key


def text_value(value: object, where: str) -> str:
    """A one-line value for ENV/LABEL: quoted by the renderers, so only a few
    characters that no quoting can carry identically in both formats are refused."""
    if not isinstance(value, str):
        raise SSConfigError(f"{where}: expected a string, got {type(value).__name__} {value!r}")
    if _CONTROL.search(value):
        raise SSConfigError(
            f"{where}: {value!r} contains a newline or control character: "
            "environment values and labels must be one line"
        )
    if '"' in value:
        # Docker's ENV/LABEL quoting and spython's parser disagree on embedded '"'.
        raise SSConfigError(
            f"{where}: {value!r} contains a double quote, which cannot be written the same way "
            "in a Dockerfile and an Apptainer definition: use single quotes instead"
        )
    return value


def environment(env: Mapping[str, object] | None, where: str = "env") -> dict[str, str]:
    if env is None:
        return {}
    if not isinstance(env, Mapping):
        raise SSConfigError(f"{where}: expected a mapping of NAME: value, got {env!r}")
    return {
        env_key(k, where): text_value(v, f"{where}.{k}") for k, v in env.items()
    }


def label_key(key: object, where: str = "labels") -> str:
    if not isinstance(key, str) or not _LABEL_KEY.fullmatch(key):
        raise SSConfigError(
            f"{where}: {key!r} is not a valid label key: use letters, digits, '.', '_' and '-'"
        )
    return key


def path_component(name: object, where: str) -> str:
    if (
        not isinstance(name, str)
        or name in (".", "..")
        or not _COMPONENT.fullmatch(name)
    ):
        raise SSConfigError(
            f"{where}: {name!r} cannot be used as a file name inside an image: use only "
            "letters, digits and '_.@+,=-' (rename the file; no spaces, quotes, '$' or ';')"
        )
    return name


def image_path(path: object, where: str) -> str:
    """An absolute POSIX path inside an image, every component checked."""
    if not isinstance(path, str) or not path.startswith("/"):
        raise SSConfigError(f"{where}: {path!r} must be an absolute path inside the image")
    parts = [p for p in path.split("/") if p]
    for part in parts:
        path_component(part, where)
    return "/" + "/".join(parts)


def stage_name(name: object, where: str = "stage") -> str:
    if not isinstance(name, str) or not _STAGE.fullmatch(name):
        raise SSConfigError(
            f"{where}: {name!r} is not a valid build stage name: use lower-case letters, "
            "digits, '_' and '-', starting with a letter"
        )
    return name


def image_ref(ref: object, where: str = "image") -> str:
    if not isinstance(ref, str) or not _IMAGE.fullmatch(ref):
        raise SSConfigError(
            f"{where}: {ref!r} is not a Docker image reference: use "
            "[registry/]name[:tag][@sha256:digest] with a lower-case name, e.g. python:3.11-slim"
        )
    return ref


def repository_name(name: str) -> str:
    """A Docker repository component made from any entity name (lower-case, no odd separators)."""
    cleaned = _REPO_PART.sub("-", name.lower()).strip("-")
    return cleaned or "unnamed"


def argv(args: Iterable[object], where: str) -> tuple[str, ...]:
    """A command as an argument list: every element one line, nothing else checked
    because the renderers quote each element."""
    out: list[str] = []
    for arg in args:
        if not isinstance(arg, str):
            raise SSConfigError(f"{where}: command arguments must be strings, got {arg!r}")
        if _CONTROL.search(arg):
            raise SSConfigError(
                f"{where}: argument {arg!r} contains a newline or control character"
            )
        out.append(arg)
    if not out:
        raise SSConfigError(f"{where}: empty command")
    return tuple(out)
