"""Where each entity runs for a given launcher: on the host, or in which image.

- ``local``: on the host (a model's container settings are only used by ``build``).
- ``docker``: every entity in a container; a model without container settings
  gets the default ones (sscontainer's base image), shards the orchestrator image.
- ``slurm``: on the nodes; a model with container settings runs through its
  runtime (Apptainer by default) from a ``.sif`` or, with ``runtime="docker"``
  or ``"podman"``, from the local engine's image.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from .entities.model import Model
from .entities.steps import HOST, SOCKET_DIR, Placement
from .errors import LauncherError
from .launchers.step import Mount
from .settings.containers import ContainerSettings

if TYPE_CHECKING:
    from .build.entity_images import EntityImages

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
        self.default_container: ContainerSettings | None = None

    @property
    def images(self) -> EntityImages:
        # built on first use: the docker SDK and spec renderers load only when needed
        if self._images is None:
            from .build.entity_images import EntityImages

            self._images = EntityImages(self.exp_path, quiet=self.quiet, progress=self.progress)
        return self._images

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

    def container_for(self, model: Model) -> ContainerSettings | None:
        """Settings a launch uses: under docker every model has some, elsewhere its own."""
        if self.launcher == "docker":
            return self.ensure_container(model)
        container = model.run_settings.container
        return container if isinstance(container, ContainerSettings) else None

    def model(self, model: Model) -> Placement:
        container = self.container_for(model)
        if container is None or self.launcher == "local":
            return HOST
        if self.launcher == "docker":
            mounts: tuple[Mount, ...] = ()
            if model.colocated is not None and model.colocated.transport == "uds":
                # the socket lives on a named volume another container can mount
                mounts = (Mount(self.socket_volume(model), SOCKET_DIR, volume=True),)
            return Placement(
                self.images.model_image(model), "docker", mounts, self.labels(model.name)
            )
        return self._slurm_placement(model, container)

    def build(
        self, orchestrators: list[str], models: list[Model], no_cache: bool, quiet: bool
    ) -> dict[str, str]:
        """Build (or find) the images of these entities; returns entity name -> image."""
        images = self.images
        keep = images.build_missing
        images.no_cache, images.quiet, images.build_missing = no_cache, quiet, True
        try:
            built = {name: images.orchestrator_image() for name in orchestrators}
            for model in models:
                self.ensure_container(model)  # local/slurm too: build the default recipe
                built[model.name] = images.model_image(model)
        finally:
            images.build_missing = keep
        return built

    def socket_volume(self, model: Model) -> str:
        return f"ssc-{self.exp_name}-{model.name}"

    def _slurm_placement(self, model: Model, container: ContainerSettings) -> Placement:
        runtime = container.runtime
        if runtime in ENGINE_RUNTIMES:
            return Placement(self.images.model_image(model), runtime, (), self.labels(model.name))
        if runtime in SIF_RUNTIMES:
            return Placement(self._sif(model, runtime), runtime, (), self.labels(model.name))
        raise LauncherError(
            f"{model.name}: runtime {runtime!r} needs an image prepared for it; "
            f"use one of {', '.join(SIF_RUNTIMES + ENGINE_RUNTIMES)}"
        )

    def _sif(self, model: Model, runtime: str) -> str:
        from .build.apptainer import build_sif
        from .build.entity_images import model_image_spec

        spec = model_image_spec(model, self.exp_path)
        if spec is None:  # an existing image: Apptainer takes a path or a URI as it is
            image = model.run_settings.container.image
            return str(image)
        result = build_sif(
            spec,
            os.path.join(self.exp_path, ".sscontainer", "images"),
            context_dir=self.exp_path,
            runtime=runtime,
            quiet=self.images.quiet,
            progress=self.images.progress,
        )
        if not result.path.is_file():
            raise LauncherError(result.message)
        return str(result.path)

    def orchestrator(self, name: str) -> Placement:
        if self.launcher != "docker":
            return HOST
        return Placement(self.images.orchestrator_image(), "docker", (), self.labels(name))
