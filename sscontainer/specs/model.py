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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from ..errors import SSConfigError
from . import validate
from .steps import (
    Step,
    User,
)

ImageSource = Literal["docker", "docker-daemon", "localimage"]


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
class Wheelhouse:
    """Wheels built on the host when the image is built, then installed offline.

    ``requirements`` are built with their dependencies (``pip wheel``; without them
    with ``no_deps``, for packages whose dependencies the image already has), ``wheels``
    are local .whl files copied as they are, and ``sscontainer`` adds a wheel of
    the running sscontainer itself (``pip wheel --no-deps``).
    """

    requirements: tuple[str, ...] = ()
    wheels: tuple[str, ...] = ()
    sscontainer: bool = False
    no_deps: bool = False

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
            + (["<no-deps>"] if self.no_deps else [])
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
