"""Where each entity runs for a given launcher: on the host, or in which image.

The runtime that runs an entity is its container settings' ``runtime`` or, when
that is unset, the launcher's default (``launchers.runtimes.default_runtime``):

- ``local``: on the host (a model's container settings are only used by ``build``).
- ``docker``: every entity in a container; a model without container settings
  gets the default ones (sscontainer's base image), shards the orchestrator image.
- ``slurm``: every entity in a container as well, Apptainer unless the settings
  name another runtime: a model runs from the ``.sif`` of its spec (or, with
  ``runtime="docker"``/``"podman"``, from the local engine's image), the shards
  of a database from the orchestrator's ``.sif``. The default container's
  ``runtime="none"`` runs everything on the nodes without a container.
  A colocated model's socket lives in a private host directory of the experiment,
  bound at ``/run/sscontainer``, so a second container on the node can reach it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from .entities.model import Model
from .entities.steps import HOST, SOCKET_DIR, Placement
from .errors import LauncherError, SSUnsupportedError
from .launchers.runtimes import NO_RUNTIME, default_runtime
from .launchers.step import Mount
from .settings.containers import ContainerSettings

if TYPE_CHECKING:
    from .build.entity_images import EntityImages
    from .build.sif_images import SifImages

ENGINE_RUNTIMES = ("docker", "podman")  # run images straight from the local engine
SIF_RUNTIMES = ("apptainer", "singularity")


class Planner:
    """Decides placements for one experiment and builds the images they need."""

    def __init__(
        self,
        exp_name: str,
        exp_path: str,
        launcher: str,
        progress: Callable[[str], None] | None = None,
        quiet: bool = False,
    ) -> None:
        self.exp_name = exp_name
        self.exp_path = exp_path
        self.launcher = launcher
        self.quiet = quiet
        self.progress = progress
        self._images: EntityImages | None = None
        self._sifs: SifImages | None = None
        self.default_container: ContainerSettings | None = None

    @property
    def images(self) -> EntityImages:
        # built on first use: the docker SDK and spec renderers load only when needed
        if self._images is None:
            from .build.entity_images import EntityImages

            self._images = EntityImages(self.exp_path, quiet=self.quiet, progress=self.progress)
        return self._images

    @property
    def sifs(self) -> SifImages:
        if self._sifs is None:
            from .build.sif_images import SifImages

            self._sifs = SifImages(self.images)
        return self._sifs

    def labels(self, name: str) -> dict[str, str]:
        return {
            "sscontainer.experiment": self.exp_name,
            "sscontainer.exp_path": self.exp_path,
            "sscontainer.entity": name,
        }

    def default(self) -> ContainerSettings:
        """The recipe for models that give none (sscontainer's base image)."""
        if self.default_container is None:
            self.default_container = ContainerSettings()
        return self.default_container

    def ensure_container(self, model: Model) -> ContainerSettings:
        """The model's container settings, the default ones given to it if it has none."""
        container = model.run_settings.container
        if not isinstance(container, ContainerSettings):
            container = model.run_settings.container = self.default()
        return container

    def runtime_for(self, container: ContainerSettings | None) -> str | None:
        """The runtime that runs an entity with ``container`` here (None: on the host)."""
        if self.launcher == "local":
            return None
        if self.launcher == "docker":
            if container is not None and container.on_host:
                raise SSUnsupportedError(
                    "the docker launcher runs every entity in a container, so container "
                    "runtime 'none' cannot be honoured: use the local or slurm launcher"
                )
            return "docker"
        runtime = (container.runtime if container else None) or default_runtime(self.launcher)
        return None if runtime == NO_RUNTIME else runtime

    def container_for(self, model: Model) -> ContainerSettings | None:
        """Settings a launch uses: under docker and slurm every model has some."""
        if self.launcher in ("docker", "slurm"):
            return self.ensure_container(model)
        container = model.run_settings.container
        return container if isinstance(container, ContainerSettings) else None

    def model(self, model: Model) -> Placement:
        if self.launcher == "local":
            return HOST
        runtime = self.runtime_for(self.container_for(model))
        if runtime is None:
            return HOST
        if self.launcher == "docker":
            mounts: tuple[Mount, ...] = ()
            if model.colocated is not None and model.colocated.transport == "uds":
                # the socket lives on a named volume another container can mount
                mounts = (Mount(self.socket_volume(model), SOCKET_DIR, volume=True),)
            return Placement(
                self.images.model_image(model), "docker", mounts, self.labels(model.name)
            )
        return self._slurm_placement(model, runtime)

    def build(
        self, orchestrators: list[str], models: list[Model], no_cache: bool, quiet: bool
    ) -> dict[str, str]:
        """Build (or find) the images of these entities; returns entity name -> image.

        Under Slurm each entity gets the image its runtime runs (a ``.sif`` for
        Apptainer); entities that run on the host get none.
        """
        images = self.images
        keep = images.build_missing
        images.no_cache, images.quiet, images.build_missing = no_cache, quiet, True
        built: dict[str, str] = {}
        try:
            for name in orchestrators if not self.default().on_host else ():
                if self.launcher != "slurm":  # `build` on a workstation: the Docker image
                    built[name] = images.orchestrator_image()
                elif (image := self._orchestrator_image(name)) is not None:
                    built[name] = image
            for model in models:
                container = self.ensure_container(model)  # local too: the default recipe
                if container.on_host:
                    continue  # runtime "none": no image
                if self.launcher != "slurm":
                    built[model.name] = images.model_image(model)
                elif (runtime := self.runtime_for(container)) is not None:
                    built[model.name] = self._model_image(model, runtime)
        finally:
            images.build_missing = keep
        return built

    def socket_volume(self, model: Model) -> str:
        return f"ssc-{self.exp_name}-{model.name}"

    def socket_dir(self, model: Model) -> str:
        """The host directory (mode 0700) bound at ``/run/sscontainer`` for a colocated
        model's socket under Apptainer: another container binding it reaches the server."""
        path = os.path.join(self.exp_path, ".sscontainer", "sockets", model.name)
        os.makedirs(path, mode=0o700, exist_ok=True)
        os.chmod(path, 0o700)
        return path

    def _model_image(self, model: Model, runtime: str) -> str:
        if runtime in ENGINE_RUNTIMES:
            return self.images.model_image(model)
        if runtime in SIF_RUNTIMES:
            return self._sif(model, runtime)
        raise LauncherError(
            f"{model.name}: runtime {runtime!r} needs an image prepared for it; "
            f"use one of {', '.join(SIF_RUNTIMES + ENGINE_RUNTIMES)}"
        )

    def _slurm_placement(self, model: Model, runtime: str) -> Placement:
        mounts: tuple[Mount, ...] = ()
        uds = model.colocated is not None and model.colocated.transport == "uds"
        if uds and runtime in SIF_RUNTIMES:
            mounts = (Mount(self.socket_dir(model), SOCKET_DIR),)
        image = self._model_image(model, runtime)
        return Placement(image, runtime, mounts, self.labels(model.name))

    def _sif(self, model: Model, runtime: str) -> str:
        from .build.entity_images import container_of, model_image_spec

        spec = model_image_spec(model, self.exp_path)
        if spec is None:  # an existing image: Apptainer takes a path or a URI as it is
            return str(container_of(model).image)
        return self.sifs.path(spec, runtime)

    def _orchestrator_image(self, name: str) -> str | None:
        """The image a database's shards run in here (None: on the host)."""
        if self.launcher == "docker":
            return self.images.orchestrator_image()
        if self.launcher == "local":
            return None
        runtime = self.runtime_for(self.default())
        if runtime is None:
            return None
        if runtime in ENGINE_RUNTIMES:
            return self.images.orchestrator_image()
        if runtime in SIF_RUNTIMES:
            from .specs.entities import orchestrator_spec

            return self.sifs.path(orchestrator_spec(), runtime)
        raise LauncherError(
            f"database {name}: runtime {runtime!r} needs an image prepared for it; "
            f"use one of {', '.join(SIF_RUNTIMES + ENGINE_RUNTIMES)} (or 'none')"
        )

    def orchestrator(self, name: str) -> Placement:
        image = self._orchestrator_image(name)
        if image is None:
            return HOST
        runtime = "docker" if self.launcher == "docker" else self.runtime_for(self.default())
        return Placement(image, runtime, (), self.labels(name))
