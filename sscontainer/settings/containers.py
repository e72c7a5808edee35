"""ContainerSettings: what goes into an entity's image, and which runtime runs it."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import MissingFileError, SSConfigError
from ..specs import validate
from ..specs.entities import DEFAULT_WORKDIR
from ..specs.steps import User

RUNTIMES = ("docker", "apptainer", "singularity", "podman", "charliecloud")
NO_CONTAINER = "none"  # runtime="none": the entity runs on the host (local and Slurm only)


def _strings(value: object, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str | bytes | os.PathLike):
        # A lone string would otherwise be read one character at a time.
        raise SSConfigError(f"{what}: expected a list, got the single value {value!r}")
    if not isinstance(value, Iterable):
        raise SSConfigError(f"{what}: expected a list, got {value!r}")
    out: list[str] = []
    for item in value:
        if isinstance(item, os.PathLike):
            item = os.fspath(item)
        if not isinstance(item, str):
            raise SSConfigError(f"{what}: entries must be strings, got {item!r}")
        out.append(item)
    return tuple(out)


@dataclass(frozen=True, init=False)
class ContainerSettings:
    """How an entity's image is made (or which existing image it uses) and run.

    - ``base``: the image to build on (default: sscontainer's runtime base,
      built by ``.ci/build-images.sh``); ``docker-daemon://name:tag`` marks an
      image of the local Docker Engine for Apptainer builds.
    - ``apt`` / ``pip`` / ``copy``: Debian packages, pip requirements (or paths of
      local ``.whl`` files) and host files/directories put into the image.
      Relative paths are resolved against ``root`` (default: the current
      directory) and stored absolute.
    - ``image``: an existing image used as it is: nothing is built.
    - ``runtime``: the container runtime that runs the entity; ``None`` (the default)
      is the launcher's own: Apptainer under Slurm, Docker on the docker launcher, no
      container on the local one. ``"none"`` runs it on the host (under Slurm: on the
      nodes, outside any container) and takes no image settings.
    - ``user``/``uid``/``gid``: the non-root account the image runs as.
    - ``env``: runtime environment baked into the image.
    - ``workdir``: the image's working directory; copied files land there.
    """

    base: str | None
    apt: tuple[str, ...]
    pip: tuple[str, ...]
    copy: tuple[str, ...]
    runtime: str | None
    image: str | None
    user: str
    uid: int
    gid: int
    env: dict[str, str]
    workdir: str

    def __init__(
        self,
        base: str | None = None,
        apt: Iterable[str] = (),
        pip: Iterable[str | os.PathLike[str]] = (),
        copy: Iterable[str | os.PathLike[str]] = (),
        runtime: str | None = None,
        image: str | None = None,
        user: str = "sscontainer",
        uid: int = 1000,
        gid: int = 1000,
        env: Mapping[str, str] | None = None,
        workdir: str = DEFAULT_WORKDIR,
        root: str | os.PathLike[str] | None = None,
    ) -> None:
        where = Path(root) if root is not None else Path.cwd()
        set_ = object.__setattr__  # frozen: set once, here
        if runtime is not None and runtime not in (*RUNTIMES, NO_CONTAINER):
            raise SSConfigError(
                f"container runtime {runtime!r} is not supported: use one of "
                + ", ".join((*RUNTIMES, NO_CONTAINER))
                + " (or leave it unset for the launcher's default)"
            )
        if base is not None:
            validate.image_ref(_strip_scheme(base), "container base")
        if image is not None:
            validate.image_ref(_strip_scheme(image), "container image")
        apt_ = tuple(
            validate.apt_package(p, "container apt") for p in _strings(apt, "container apt")
        )
        pip_ = tuple(_pip_entry(p, where) for p in _strings(pip, "container pip"))
        copy_ = tuple(_copy_entry(p, where) for p in _strings(copy, "container copy"))
        names = [Path(p).name for p in copy_]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise SSConfigError(
                f"container copy: several entries are named {dupes}: they would overwrite "
                "each other in the image's workdir; rename them or copy their directory"
            )
        if image is not None and (apt_ or pip_ or copy_ or base):
            raise SSConfigError(
                "container image= uses an existing image as it is, so base/apt/pip/copy "
                "(which need a build) cannot be combined with it: drop one or the other"
            )
        if runtime == NO_CONTAINER and (image is not None or apt_ or pip_ or copy_ or base):
            raise SSConfigError(
                "container runtime 'none' runs the entity on the host, so there is no image: "
                "drop base/apt/pip/copy/image, or choose a runtime"
            )
        User(user, uid, gid)  # the account rules live with the spec's User
        for name, value in (
            ("base", base), ("apt", apt_), ("pip", pip_), ("copy", copy_),
            ("runtime", runtime), ("image", image), ("user", user), ("uid", uid),
            ("gid", gid), ("env", validate.environment(env, "container env")),
            ("workdir", validate.image_path(workdir, "container workdir")),
        ):
            set_(self, name, value)

    @property
    def needs_build(self) -> bool:
        """False when ``image`` names an existing image (or there is no container)."""
        return self.image is None and self.runtime != NO_CONTAINER

    @property
    def on_host(self) -> bool:
        """True for ``runtime="none"``: no container at all."""
        return self.runtime == NO_CONTAINER

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, Any], root: str | os.PathLike[str]
    ) -> ContainerSettings:
        """From a YAML ``container:`` block; paths relative to ``root`` (the file's directory)."""
        if not isinstance(data, Mapping):
            raise SSConfigError(f"container: expected a mapping, got {data!r}")
        allowed = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise SSConfigError(
                f"container: unknown keys {unknown}: allowed are {sorted(allowed)}"
            )
        return cls(**dict(data), root=root)


def _strip_scheme(ref: str) -> str:
    for scheme in ("docker-daemon://", "docker://"):
        if ref.startswith(scheme):
            return ref[len(scheme):]
    return ref


def _pip_entry(entry: str, root: Path) -> str:
    if entry.endswith(".whl"):
        path = (root / entry).resolve()
        if not path.is_file():
            raise MissingFileError(f"container pip: wheel {entry!r} not found (looked at {path})")
        validate.path_component(path.name, "container pip wheel")
        return str(path)
    return validate.pip_requirement(entry, "container pip")


def _copy_entry(entry: str, root: Path) -> str:
    path = (root / entry).resolve()
    if not path.exists():
        raise MissingFileError(
            f"container copy: {entry!r} does not exist (looked at {path}); give a path "
            "relative to the experiment file or an absolute one"
        )
    validate.path_component(path.name, f"container copy {entry!r}")
    return str(path)
