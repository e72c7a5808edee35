"""ContainerSpec: a plain description of one image, independent of any file format.

The renderers (``render.py`` + ``templates/``) write it as a Dockerfile or an
Apptainer definition. Build steps are argument lists (never shell strings); the
renderers quote every argument, so a spec cannot inject shell syntax.

Semantics both formats share (the renderers keep them identical):
- a stage's files are copied before its steps run when Apptainer builds it
  (``%files`` precedes ``%post``), so steps never create or remove copy targets;
- ``env`` is the *runtime* environment: it is written after the steps, and steps
  use absolute paths instead of relying on it;
- a stage based on an earlier stage inherits its files, steps and environment.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from ..errors import SSConfigError
from . import validate

ImageSource = Literal["docker", "docker-daemon", "localimage"]
_USER = re.compile(r"[a-z_][a-z0-9_-]{0,31}")


@dataclass(frozen=True)
class BaseImage:
    """The image a stage starts from.

    ``source`` says where Apptainer finds it: ``docker`` (a registry),
    ``docker-daemon`` (the local Docker Engine) or ``localimage`` (the .sif file
    ``sif``). Docker always uses ``ref``.
    """

    ref: str
    source: ImageSource = "docker"
    sif: str | None = None

    def __post_init__(self) -> None:
        validate.image_ref(self.ref, "base image")
        if self.source not in ("docker", "docker-daemon", "localimage"):
            raise SSConfigError(
                f"base image source {self.source!r} is not one of docker, docker-daemon, localimage"
            )
        if self.source == "localimage":
            if not self.sif or not self.sif.endswith(".sif"):
                raise SSConfigError("a localimage base needs sif='<path>.sif'")
            for part in self.sif.split("/"):
                if part:
                    validate.path_component(part, "base image sif")


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


@dataclass(frozen=True)
class Wheelhouse:
    """Wheels built on the host when the image is built, then installed offline.

    ``requirements`` are built with their dependencies (``pip wheel``), ``wheels``
    are local .whl files copied as they are, and ``sscontainer`` adds a wheel of
    the running sscontainer itself (``pip wheel --no-deps``).
    """

    requirements: tuple[str, ...] = ()
    wheels: tuple[str, ...] = ()
    sscontainer: bool = False

    def __post_init__(self) -> None:
        for req in self.requirements:
            validate.pip_requirement(req)
        for wheel in self.wheels:
            if not wheel.endswith(".whl"):
                raise SSConfigError(f"pip: {wheel!r} is not a .whl file")
            validate.path_component(wheel.rsplit("/", 1)[-1], "pip wheel")

    @property
    def key(self) -> str:
        """A short name for this set, stable across machines (contents enter the image tag)."""
        text = "\n".join(
            [*sorted(self.requirements), *sorted(w.rsplit("/", 1)[-1] for w in self.wheels)]
            + (["<sscontainer>"] if self.sscontainer else [])
        )
        return hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Copy:
    """Copy ``source`` to the absolute image path ``dest``.

    ``source`` is a host path (absolute, or relative to the build's context
    directory), a :class:`Wheelhouse`, or, with ``from_stage``, a path inside
    that earlier stage.
    """

    source: str | Wheelhouse
    dest: str
    from_stage: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "dest", validate.image_path(self.dest, "copy destination"))
        if self.from_stage is not None:
            validate.stage_name(self.from_stage, "copy from_stage")
            if not isinstance(self.source, str):
                raise SSConfigError("a copy from a stage needs an image path as its source")
            object.__setattr__(
                self, "source", validate.image_path(self.source, "copy source in stage")
            )
        elif isinstance(self.source, str) and not self.source:
            raise SSConfigError("copy source is empty")

    @property
    def is_local(self) -> bool:
        """True when the source comes from the host (and so from the build context)."""
        return self.from_stage is None


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


Instruction = Copy | Step


@dataclass(frozen=True)
class Stage:
    """One build stage: a base (image or earlier stage name), copies and steps, runtime env."""

    name: str
    base: BaseImage | str
    instructions: tuple[Instruction, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        validate.stage_name(self.name)
        if isinstance(self.base, str):
            validate.stage_name(self.base, f"stage {self.name} base")
        object.__setattr__(self, "instructions", tuple(self.instructions))
        for item in self.instructions:
            if not isinstance(item, Copy | Step):
                raise SSConfigError(f"stage {self.name}: {item!r} is neither a Copy nor a Step")
        object.__setattr__(self, "env", validate.environment(self.env, f"stage {self.name} env"))

    @property
    def copies(self) -> tuple[Copy, ...]:
        return tuple(i for i in self.instructions if isinstance(i, Copy))

    @property
    def steps(self) -> tuple[Step, ...]:
        return tuple(i for i in self.instructions if isinstance(i, Step))


@dataclass(frozen=True)
class ContainerSpec:
    """One image: its stages (the last one is the image) and its runtime settings.

    ``name`` is a Docker repository component (see :func:`validate.repository_name`).
    ``user`` is who the image runs as under Docker (Apptainer runs as the caller);
    ``entrypoint`` becomes ``ENTRYPOINT`` / ``%runscript``; ``volumes`` are
    declared for Docker (the steps must create them, owned as needed).
    """

    name: str
    stages: tuple[Stage, ...]
    user: User | None = None
    workdir: str | None = None
    entrypoint: tuple[str, ...] | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    volumes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if validate.repository_name(self.name) != self.name:
            raise SSConfigError(
                f"spec name {self.name!r} is not a Docker repository name: "
                f"use {validate.repository_name(self.name)!r}"
            )
        object.__setattr__(self, "stages", tuple(self.stages))
        if not self.stages:
            raise SSConfigError(f"spec {self.name}: needs at least one stage")
        seen: set[str] = set()
        for stage in self.stages:
            if stage.name in seen:
                raise SSConfigError(f"spec {self.name}: two stages are named {stage.name!r}")
            if isinstance(stage.base, str) and stage.base not in seen:
                raise SSConfigError(
                    f"spec {self.name}: stage {stage.name} is based on {stage.base!r}, "
                    "which is not an earlier stage"
                )
            for copy in stage.copies:
                if copy.from_stage is not None and copy.from_stage not in seen:
                    raise SSConfigError(
                        f"spec {self.name}: stage {stage.name} copies from {copy.from_stage!r}, "
                        "which is not an earlier stage"
                    )
            seen.add(stage.name)
        dests = [c.dest for s in self.stages for c in s.copies if c.is_local]
        dupes = sorted({d for d in dests if dests.count(d) > 1})
        if dupes:
            raise SSConfigError(f"spec {self.name}: several files are copied to {dupes}")
        if self.workdir is not None:
            object.__setattr__(self, "workdir", validate.image_path(self.workdir, "workdir"))
        if self.entrypoint is not None:
            object.__setattr__(self, "entrypoint", validate.argv(self.entrypoint, "entrypoint"))
        labels = {
            validate.label_key(k): validate.text_value(v, f"label {k}")
            for k, v in self.labels.items()
        }
        object.__setattr__(self, "labels", labels)
        object.__setattr__(
            self, "volumes", tuple(validate.image_path(v, "volume") for v in self.volumes)
        )

    @property
    def final(self) -> Stage:
        return self.stages[-1]

    def stage(self, name: str) -> Stage:
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise KeyError(name)

    def chain(self, name: str) -> list[Stage]:
        """The stage ``name`` and the earlier stages it is based on, root first."""
        out = [self.stage(name)]
        while isinstance(out[0].base, str):
            out.insert(0, self.stage(out[0].base))
        return out

    def root_base(self, name: str) -> BaseImage:
        base = self.chain(name)[0].base
        assert isinstance(base, BaseImage)
        return base

    def local_copies(self) -> list[Copy]:
        return [c for s in self.stages for c in s.copies if c.is_local]


def merged_env(stages: Iterable[Stage]) -> dict[str, str]:
    """Environment of the last of ``stages`` (later stages override earlier keys)."""
    env: dict[str, str] = {}
    for stage in stages:
        env.update(stage.env)
    return env
