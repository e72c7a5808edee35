"""SmartSim's container classes for run settings: ``Container`` and ``Singularity``.

``create_run_settings(..., container=Singularity(image, args=..., mount=...))``
runs the executable inside ``image`` with ``singularity exec`` (Apptainer's
``apptainer exec`` where only that is installed), the run command outside:
``srun ... apptainer exec --pwd RUN --bind RUN,MOUNTS IMAGE exe args``. The
run directory is bound at its own path, as SmartSim does, so paths a driver
computes on the host stay valid inside.

Under the ``docker`` launcher, which runs images itself, ``to_container_settings``
maps the image onto sscontainer's ``ContainerSettings`` (the Docker runtime).
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping

from ..errors import ArgumentTypeError, SSConfigError, SSUnsupportedError
from ..log import get_logger
from .containers import ContainerSettings

logger = get_logger("sscontainer.settings")

Mount = str | list[str] | Mapping[str, str | None]


class Container:
    """Base class of SmartSim-style container types (image, runtime args, bind mounts)."""

    def __init__(
        self, image: str, args: str | list[str] = "", mount: Mount = "",
        working_directory: str = "",
    ) -> None:
        if not isinstance(image, str) or not image:
            raise ArgumentTypeError(f"image must be a non-empty str, got {image!r}")
        if not isinstance(args, (str, list)):
            raise ArgumentTypeError("args must be a str | list")
        if not isinstance(mount, (str, list, dict)):
            raise ArgumentTypeError("mount must be a str | list | dict")
        if not isinstance(working_directory, str):
            raise ArgumentTypeError("working_directory must be a str")
        self.image = image
        self.args = args
        self.mount = mount
        self.working_directory = working_directory

    def container_argv(self, default_working_directory: str = "") -> list[str]:
        """The argv put before the executable."""
        raise SSUnsupportedError(
            f"{type(self).__name__} cannot run a workload: use Singularity, or "
            "sscontainer's ContainerSettings"
        )

    def to_container_settings(self) -> ContainerSettings:
        """The image as sscontainer's ``ContainerSettings`` (used by the docker launcher)."""
        if self.args or self.mount:
            raise SSUnsupportedError(
                f"{type(self).__name__} args/mount cannot be given to the docker launcher, "
                "which mounts the run directory itself: drop them, or use launcher='local' "
                "or 'slurm'"
            )
        image = self.image
        for scheme in ("docker://", "docker-daemon://"):
            image = image.removeprefix(scheme)
        if "://" in image or image.endswith(".sif"):
            raise SSUnsupportedError(
                f"the docker launcher runs Docker images, not {self.image!r}: give a "
                "docker:// image or use launcher='local' or 'slurm'"
            )
        return ContainerSettings(image=image, runtime="docker")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.image!r}, args={self.args!r}, mount={self.mount!r})"


def _args(args: str | list[str]) -> list[str]:
    if isinstance(args, str):
        return args.split()
    if all(isinstance(arg, str) for arg in args):
        return list(args)
    raise ArgumentTypeError("args must be a str | list of str")


def _binds(mount: Mount) -> list[str]:
    if isinstance(mount, str):
        binds = [mount] if mount else []
    elif isinstance(mount, list):
        binds = list(mount)
    else:
        binds = [f"{host}:{image}" if image else host for host, image in mount.items()]
    for bind in binds:
        if not isinstance(bind, str) or not bind or "," in bind or "\n" in bind:
            raise SSConfigError(f"mount {bind!r}: give paths without ',' or newlines")
    return binds


class Singularity(Container):
    """Run the workload in an Apptainer/Singularity image (``docker://``, ``.sif``, ...)."""

    def _program(self) -> str:
        for name in ("singularity", "apptainer"):
            found = shutil.which(name)
            if found:
                return found
        logger.warning(
            "Unable to find singularity or apptainer here: continuing, in case the compute "
            "nodes have it"
        )
        return "singularity"

    def container_argv(self, default_working_directory: str = "") -> list[str]:
        workdir = self.working_directory or default_working_directory
        binds = _binds(self.mount)
        if workdir and not any(b.split(":")[0] == workdir for b in binds):
            binds.insert(0, workdir)  # the run directory is always visible inside
        argv = [self._program(), "exec"]
        if workdir:
            argv += ["--pwd", workdir]
        argv += _args(self.args)
        if binds:
            argv += ["--bind", ",".join(binds)]
        return [*argv, self.image]
