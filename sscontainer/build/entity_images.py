"""Which image each entity runs in, built on demand (content-addressed, so cached).

A model's image comes from its ``ContainerSettings`` (an ensemble's members
share one); a colocated model adds the server and the supervisor; shards of an
orchestrator run the orchestrator image.
"""

from __future__ import annotations

from pathlib import Path

from ..entities.model import Model
from ..errors import SSConfigError
from ..settings.containers import ContainerSettings
from ..specs.entities import colocated_spec, model_spec, orchestrator_spec
from ..specs.model import ContainerSpec
from .docker import Progress, build_image


def container_of(model: Model) -> ContainerSettings:
    container = model.run_settings.container
    if not isinstance(container, ContainerSettings):
        raise SSConfigError(
            f"model {model.name!r} has no container settings: create its run settings with "
            "container=ContainerSettings(...) (or a YAML `container:` block)"
        )
    return container


def model_image_spec(model: Model, context_dir: str | Path) -> ContainerSpec | None:
    """The spec to build for ``model``; None when it names an existing image."""
    container = container_of(model)
    if not container.needs_build:
        return None
    spec = model_spec(model.name, container, context_dir)
    return colocated_spec(spec) if model.is_colocated else spec


class EntityImages:
    """Builds (or finds) entity images once per driver; remembers their tags."""

    def __init__(
        self,
        context_dir: str | Path,
        *,
        no_cache: bool = False,
        quiet: bool = False,
        progress: Progress | None = None,
    ) -> None:
        self.context_dir = Path(context_dir)
        self.no_cache = no_cache
        self.quiet = quiet
        self.progress = progress
        self._tags: dict[str, str] = {}  # rendered spec identity -> tag

    def _build(self, spec: ContainerSpec) -> str:
        key = repr(spec)
        if key not in self._tags:
            built = build_image(
                spec, self.context_dir, no_cache=self.no_cache, quiet=self.quiet,
                progress=self.progress,
            )
            self._tags[key] = built.tag
        return self._tags[key]

    def model_image(self, model: Model) -> str:
        spec = model_image_spec(model, self.context_dir)
        if spec is None:
            image = container_of(model).image
            assert image is not None  # needs_build is False only with an image
            return image
        return self._build(spec)

    def orchestrator_image(self, base: str | None = None) -> str:
        return self._build(orchestrator_spec(base))
