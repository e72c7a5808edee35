"""The ``.sif`` each entity runs under Apptainer/Singularity, built on demand and cached.

An image is named by its spec's content hash (see ``build/apptainer.py``), so a
second driver, or another experiment with the same spec, finds it without
building. When a Docker Engine answers, the SIF is converted from the Docker
image of the same spec (``docker-daemon://``: the engine's layer cache makes the
model layers cheap); otherwise Apptainer builds it from the definition file.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import BuildError, LauncherError
from ..specs.model import ContainerSpec
from .apptainer import Progress, build_sif, sif_context, sif_dir, sif_name

if TYPE_CHECKING:
    from .entity_images import EntityImages


class SifImages:
    """Finds or builds SIFs once per driver; Docker images come from ``docker``."""

    def __init__(self, docker: EntityImages, out_dir: str | Path | None = None) -> None:
        self.docker = docker  # carries context_dir, quiet, progress, build_missing, no_cache
        self.out_dir = Path(out_dir) if out_dir is not None else sif_dir()
        self._paths: dict[tuple[str, str], str] = {}
        self._engine: Any = None
        self._engine_checked = False

    @property
    def progress(self) -> Progress | None:
        return self.docker.progress

    def engine(self) -> Any:
        """The Docker Engine's API client, or None when none answers (asked once)."""
        if not self._engine_checked:
            self._engine_checked = True
            from .docker import engine_client

            try:
                self._engine = engine_client(timeout=600)
            except BuildError:
                self._engine = None
        return self._engine

    def path(self, spec: ContainerSpec, runtime: str = "apptainer") -> str:
        """The SIF of ``spec``: found by its hash, else built (if building is allowed)."""
        key = (repr(spec), runtime)
        if key in self._paths:
            return self._paths[key]
        api = self.engine()
        ids: dict[str, str] = {}
        if api is not None:
            from .docker import base_ids

            ids = base_ids(api, spec)
        context = sif_context(spec, self.docker.context_dir, ids)
        found = self.out_dir / sif_name(context)
        if not found.is_file():
            if not self.docker.build_missing:
                raise LauncherError(
                    f"the {spec.name} image for {runtime} ({found}) is not built: run "
                    "`sscontainer build --format apptainer` on the experiment file first, "
                    "or pass --build"
                )
            tag = self.docker.spec_image(spec) if api is not None else None
            result = build_sif(
                spec, self.out_dir, context_dir=self.docker.context_dir, docker_tag=tag,
                base_ids=ids, runtime=runtime, quiet=self.docker.quiet, progress=self.progress,
            )
            if not result.available:
                raise LauncherError(result.message)
            found = result.path
        self._paths[key] = str(found)
        return self._paths[key]
