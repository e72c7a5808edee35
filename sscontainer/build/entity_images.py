"""Which image each entity runs in, built on demand (content-addressed, so cached).

A model's image comes from its ``ContainerSettings`` (an ensemble's members
share one); a colocated model adds the server and the supervisor; shards of an
orchestrator run the orchestrator image.
"""

from __future__ import annotations

from pathlib import Path

from ..entities.model import Model
from ..errors import LauncherError, SSConfigError
from ..settings.containers import ContainerSettings
from ..specs.entities import colocated_spec, model_spec, orchestrator_spec
from ..specs.model import ContainerSpec
from .context import prepare_context
from .docker import Progress, base_ids, build_image, engine_client, image_exists


def container_of(model: Model) -> ContainerSettings:
    container = model.run_settings.container
    if not isinstance(container, ContainerSettings):
        raise SSConfigError(
            f"model {model.name!r} has no container settings: create its run settings with "
            "container=ContainerSettings(...) (or a YAML `container:` block)"
        )
    return container


def model_image_spec(model: Model, context_dir: str | Path) -> ContainerSpec | None:
    """The spec to build for ``model``; None when it names an existing image (or runs
    on the host: runtime ``none``)."""
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
        build_missing: bool = True,
    ) -> None:
        self.context_dir = Path(context_dir)
        self.build_missing = build_missing
        self.no_cache = no_cache
        self.quiet = quiet
        self.progress = progress
        self._tags: dict[str, str] = {}  # rendered spec identity -> tag

    def _existing(self, spec: ContainerSpec) -> str:
        """The tag of an image already built for ``spec``; an error naming the fix if none."""
        api = engine_client()
        context = prepare_context(spec, self.context_dir, None, base_ids(api, spec))
        if not image_exists(api, context.tag):
            raise LauncherError(
                f"the {spec.name} image ({context.tag}) is not built: run `sscontainer build` "
                "on the experiment file first, or pass --build"
            )
        return context.tag

    def spec_image(self, spec: ContainerSpec) -> str:
        """The Docker tag of ``spec``: found, or built when ``build_missing``."""
        key = repr(spec)
        if key not in self._tags and not self.build_missing:
            self._tags[key] = self._existing(spec)
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
            if image is None:
                raise SSConfigError(
                    f"model {model.name!r} runs on the host (container runtime 'none'): "
                    "it has no image"
                )
            return image
        return self.spec_image(spec)

    def orchestrator_image(self, base: str | None = None) -> str:
        return self.spec_image(orchestrator_spec(base))
