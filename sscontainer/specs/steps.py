"""Build steps and the image's user: each step is a list of commands (argument lists).

A step knows its commands, never a file format: the renderers quote every
argument and chain a step's commands with ``&&`` in a ``RUN`` line or ``%post``.
Where shell syntax is needed (``||``, globs) the script text is fixed and
values travel as positional arguments of ``sh -c``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import SSConfigError
from . import validate

_USER = re.compile(r"[a-z_][a-z0-9_-]{0,31}")


@dataclass(frozen=True)
class User:
    """The non-root account an image runs as (created in the image if missing)."""

    name: str = "sscontainer"
    uid: int = 1000
    gid: int = 1000

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _USER.fullmatch(self.name):
            raise SSConfigError(
                f"user {self.name!r} is not a valid account name: use lower-case letters, "
                "digits, '_' and '-', starting with a letter or '_', at most 32 characters"
            )
        for what, value in (("uid", self.uid), ("gid", self.gid)):
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**31:
                raise SSConfigError(f"{what} {value!r} must be an integer in 0..2147483647")

    @property
    def is_root(self) -> bool:
        return self.uid == 0


class Step:
    """One build step: a sequence of commands run together (one ``RUN``)."""

    def commands(self) -> tuple[tuple[str, ...], ...]:
        raise NotImplementedError


@dataclass(frozen=True)
class Run(Step):
    """Arbitrary commands, each an argument list; run in order, stopping at the first failure."""

    argvs: tuple[tuple[str, ...], ...]

    def __post_init__(self) -> None:
        if not self.argvs:
            raise SSConfigError("Run needs at least one command")
        object.__setattr__(
            self, "argvs", tuple(validate.argv(a, "run step") for a in self.argvs)
        )

    def commands(self) -> tuple[tuple[str, ...], ...]:
        return self.argvs


@dataclass(frozen=True)
class AptInstall(Step):
    """Install Debian packages (and drop the package lists afterwards).

    With ``unless_command`` nothing is installed when that command already exists
    in the image (e.g. a base that ships ``redis-server``).
    """

    packages: tuple[str, ...]
    unless_command: str | None = None

    def __post_init__(self) -> None:
        if not self.packages:
            raise SSConfigError("AptInstall needs at least one package")
        for pkg in self.packages:
            validate.apt_package(pkg)
        if self.unless_command is not None:
            validate.path_component(self.unless_command, "unless_command")

    def commands(self) -> tuple[tuple[str, ...], ...]:
        install = ("env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y",
                   "--no-install-recommends")
        if self.unless_command is None:
            return (
                ("apt-get", "update"),
                install + self.packages,
                # find, not a glob: arguments are quoted, so "*" would stay literal
                ("find", "/var/lib/apt/lists", "-mindepth", "1", "-delete"),
            )
        # The package names travel as positional arguments: the script text is fixed.
        script = (
            'command -v "$1" >/dev/null 2>&1 && exit 0; shift; apt-get update && '
            'DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" '
            "&& rm -rf /var/lib/apt/lists/*"
        )
        return (("sh", "-c", script, "sh", self.unless_command, *self.packages),)


@dataclass(frozen=True)
class CreateUser(Step):
    """Create the group and account of ``user`` unless they already exist."""

    user: User

    def commands(self) -> tuple[tuple[str, ...], ...]:
        if self.user.is_root:
            return (("true",),)
        script = (
            'getent group "$2" >/dev/null || groupadd -g "$2" "$1"; '
            'id -u "$1" >/dev/null 2>&1 || useradd -o -m -u "$3" -g "$2" -s /bin/sh "$1"'
        )
        u = self.user
        return (("sh", "-c", script, "sh", u.name, str(u.gid), str(u.uid)),)


@dataclass(frozen=True)
class MakeDirs(Step):
    """Create directories owned by ``owner`` (root when None)."""

    paths: tuple[str, ...]
    owner: User | None = None

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "paths", tuple(validate.image_path(p, "directory") for p in self.paths)
        )

    def commands(self) -> tuple[tuple[str, ...], ...]:
        cmds: list[tuple[str, ...]] = [("mkdir", "-p", *self.paths)]
        if self.owner is not None and not self.owner.is_root:
            cmds.append(("chown", f"{self.owner.uid}:{self.owner.gid}", *self.paths))
        return tuple(cmds)


@dataclass(frozen=True)
class CreateVenv(Step):
    """A virtual environment (Debian's python3 refuses system-wide pip installs)."""

    path: str
    system_site_packages: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", validate.image_path(self.path, "venv"))

    def commands(self) -> tuple[tuple[str, ...], ...]:
        flag = "--system-site-packages" if self.system_site_packages else "--clear"
        script = '[ -x "$1/bin/python" ] || python3 -m venv "$2" "$1"'
        return (("sh", "-c", script, "sh", self.path, flag),)


@dataclass(frozen=True)
class PipInstall(Step):
    """Install requirements from a copied wheel directory only (``--no-index``), then delete it."""

    venv: str
    find_links: str
    requirements: tuple[str, ...]
    no_deps: bool = False
    force_reinstall: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "venv", validate.image_path(self.venv, "venv"))
        object.__setattr__(self, "find_links", validate.image_path(self.find_links, "wheels"))
        if not self.requirements:
            raise SSConfigError("PipInstall needs at least one requirement")
        for req in self.requirements:
            validate.pip_requirement(req)

    def commands(self) -> tuple[tuple[str, ...], ...]:
        pip: tuple[str, ...] = (f"{self.venv}/bin/pip", "install", "--no-index", "--no-cache-dir",
               "--disable-pip-version-check", "--find-links", self.find_links)
        if self.no_deps:
            pip += ("--no-deps",)
        if self.force_reinstall:
            pip += ("--force-reinstall",)
        return (pip + self.requirements, ("rm", "-rf", self.find_links))


def wheel_requirement(path: str) -> str:
    """``name==version`` of a wheel file, from its name (PEP 427)."""
    parts = path.rsplit("/", 1)[-1][: -len(".whl")].split("-")
    if len(parts) not in (5, 6):
        raise SSConfigError(
            f"pip: {path!r} is not a wheel file name (NAME-VERSION-PY-ABI-PLAT.whl)"
        )
    return validate.pip_requirement(f"{parts[0]}=={parts[1]}", "pip wheel")
