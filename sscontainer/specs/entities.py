"""Entity -> ContainerSpec: the images a model, an orchestrator and a colocated model need.

These take plain values (names, ContainerSettings) so entities and specs stay
independent. A model's image holds its software only; its run directory is
bind-mounted at run time, so every member of an ensemble shares one image.

sscontainer gets into every image as a wheel built on the host and installed
offline into a venv that sees the base's Debian packages (numpy, redis, yaml,
jinja2, click on sscontainer's base image).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import MissingFileError, SSConfigError
from ..names import validate_name
from ..version import __version__
from .model import BaseImage, ContainerSpec, Copy, Instruction, Stage, Wheelhouse
from .steps import (
    AptInstall,
    CreateUser,
    CreateVenv,
    MakeDirs,
    PipInstall,
    User,
    wheel_requirement,
)

if TYPE_CHECKING:  # settings import specs.validate: avoid the cycle at run time
    from ..settings.containers import ContainerSettings

VENV = "/opt/sscontainer/venv"
WHEELS_DIR = "/opt/sscontainer/wheels"
SOCKET_DIR = "/run/sscontainer"  # colocated database socket: a volume shared with clients
DATA_DIR = "/data"  # orchestrator working directory (persistence files, if any)
DEFAULT_WORKDIR = "/opt/app"  # a model's copied files land here
BOOTSTRAP_BASE = BaseImage("sscontainer/bookworm-minbase:latest", "docker-daemon")
DEFAULT_BASE = BaseImage(f"sscontainer/base:{__version__}", "docker-daemon")
RUNTIME_ENV = {
    # Written out in full: Docker would expand $PATH at build time, Apptainer at run time.
    "PATH": f"{VENV}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "VIRTUAL_ENV": VENV,
    "PYTHONUNBUFFERED": "1",
}
SERVER_PACKAGES = ("redis-server",)
# What images/bootstrap-base.sh puts into its debootstrap image (keep the two lists equal):
# a registry's plain Debian image (debian:bookworm-slim) gets them from apt instead.
BOOTSTRAP_PACKAGES = (
    "python3", "python3-pip", "python3-venv", "python3-numpy", "python3-redis", "python3-yaml",
    "python3-jinja2", "python3-click", "redis-server", "redis-tools", "ca-certificates",
)
ORCHESTRATOR_ENTRYPOINT = ("redis-server",)
COLOCATED_ENTRYPOINT = (f"{VENV}/bin/python", "-m", "sscontainer.db.colocated")
ROLE_LABEL = "org.sscontainer.role"


def base_image(base: str | BaseImage | None) -> BaseImage:
    """A base from a setting: ``None`` is sscontainer's runtime base (a local image);
    ``docker-daemon://ref`` a local Docker Engine image; anything else a registry image."""
    if base is None:
        return DEFAULT_BASE
    if isinstance(base, BaseImage):
        return base
    if base.startswith("docker-daemon://"):
        return BaseImage(base[len("docker-daemon://"):], "docker-daemon")
    if base.startswith("docker://"):
        base = base[len("docker://"):]
    return BaseImage(base, "docker")


def sscontainer_install() -> tuple[Instruction, ...]:
    """Copy and install this sscontainer's wheel (no dependencies, no index)."""
    dest = f"{WHEELS_DIR}/sscontainer"
    return (
        Copy(Wheelhouse(sscontainer=True), dest),
        PipInstall(VENV, dest, ("sscontainer",), no_deps=True, force_reinstall=True),
    )


def _labels(role: str) -> dict[str, str]:
    # No entity name: identical settings give identical images, built once
    # (an ensemble's members, or two models with the same software).
    return {"org.opencontainers.image.version": __version__, ROLE_LABEL: role}


def runtime_base_spec(
    base: str | BaseImage = BOOTSTRAP_BASE, *, user: User | None = None
) -> ContainerSpec:
    """sscontainer's runtime base (``images/base``): the bootstrapped Debian image plus
    the non-root user, the venv and sscontainer. Models build on it by default.

    ``base`` may also be a registry's plain Debian bookworm (``debian:bookworm-slim``):
    the Debian packages the bootstrap image holds are installed when its server is
    missing, so a machine with a registry needs no debootstrap."""
    user = user or User()
    steps: tuple[Instruction, ...] = (
        AptInstall(BOOTSTRAP_PACKAGES, unless_command="redis-server"),
        CreateUser(user),
        CreateVenv(VENV),
        *sscontainer_install(),
        MakeDirs((DEFAULT_WORKDIR,), owner=user),
    )
    return ContainerSpec(
        name="base",
        stages=(Stage("base", base_image(base), steps, dict(RUNTIME_ENV)),),
        user=user,
        workdir=DEFAULT_WORKDIR,
        labels=_labels("base"),
    )


def model_spec(
    name: str, container: ContainerSettings, context_dir: str | Path
) -> ContainerSpec:
    """The image of model ``name``: base + apt + pip + copied files + sscontainer.

    ``name`` is only checked and quoted in errors: the spec depends on the
    settings alone, so members of an ensemble (and models with equal settings)
    share one image.

    Copied files land in ``container.workdir``; relative paths resolve against
    ``context_dir`` (ContainerSettings already made its own paths absolute).
    """
    validate_name(name, "model name")
    if not container.needs_build:
        raise SSConfigError(
            f"model {name}: container image={container.image!r} is used as it is; "
            "there is no image to build (use the image name directly)"
        )
    user = User(container.user, container.uid, container.gid)
    steps: list[Instruction] = [CreateUser(user)]
    if container.apt:
        steps.append(AptInstall(tuple(container.apt)))
    steps.append(CreateVenv(VENV))
    reqs = tuple(p for p in container.pip if not p.endswith(".whl"))
    wheels = tuple(
        str(_resolve(p, context_dir, "pip")) for p in container.pip if p.endswith(".whl")
    )
    if reqs or wheels:
        house = Wheelhouse(reqs, wheels)
        dest = f"{WHEELS_DIR}/{house.key}"
        steps.append(Copy(house, dest))
        steps.append(PipInstall(VENV, dest, reqs + tuple(wheel_requirement(w) for w in wheels)))
    steps.extend(sscontainer_install())
    steps.append(MakeDirs((container.workdir,), owner=user))
    for entry in container.copy:
        src = _resolve(entry, context_dir, "copy")
        steps.append(Copy(str(src), f"{container.workdir}/{src.name}"))
    env = {**RUNTIME_ENV, **container.env}
    return ContainerSpec(
        name="model",
        stages=(Stage("model", base_image(container.base), tuple(steps), env),),
        user=user,
        workdir=container.workdir,
        labels=_labels("model"),
    )


def orchestrator_spec(
    base: str | BaseImage | None = None,
    *,
    user: User | None = None,
    entrypoint: tuple[str, ...] = ORCHESTRATOR_ENTRYPOINT,
) -> ContainerSpec:
    """The database image: a Redis-protocol server and sscontainer; the entrypoint runs
    the server (the launcher passes its arguments: port, bind address, cluster mode)."""
    user = user or User()
    steps: tuple[Instruction, ...] = (
        CreateUser(user),
        AptInstall(SERVER_PACKAGES, unless_command="redis-server"),
        CreateVenv(VENV),
        *sscontainer_install(),
        MakeDirs((DATA_DIR,), owner=user),
    )
    return ContainerSpec(
        name="orchestrator",
        stages=(Stage("orchestrator", base_image(base), steps, dict(RUNTIME_ENV)),),
        user=user,
        workdir=DATA_DIR,
        entrypoint=entrypoint,
        labels=_labels("orchestrator"),
    )


def colocated_spec(model: ContainerSpec) -> ContainerSpec:
    """The model's image plus the server, run by the colocated supervisor.

    The supervisor's socket lives in ``SOCKET_DIR``: created here owned by the
    image's user and declared a volume, so a named volume mounted there starts
    writable by that user and can be shared with other containers.
    """
    user = model.user or User()
    stage = Stage(
        "colocated",
        base=model.final.name,
        instructions=(
            AptInstall(SERVER_PACKAGES, unless_command="redis-server"),
            MakeDirs((SOCKET_DIR,), owner=user),
        ),
    )
    return replace(
        model,
        name="colocated" if model.name == "model" else f"colocated-{model.name}",
        stages=(*model.stages, stage),
        user=user,
        entrypoint=COLOCATED_ENTRYPOINT,
        volumes=(*model.volumes, SOCKET_DIR),
        labels={**model.labels, **_labels("colocated")},
    )


def _resolve(entry: str, context_dir: str | Path, what: str) -> Path:
    path = Path(context_dir) / entry
    if not path.exists():
        raise MissingFileError(f"container {what}: {path} does not exist")
    return path.resolve()
