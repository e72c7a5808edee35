"""The ``.sif`` each entity runs under Apptainer/Singularity, built on demand and cached.

An image is named by its spec's content hash (see ``build/apptainer.py``), so a
second driver, or another experiment with the same spec, finds it without
building (where an engine answers, a SIF built from an older base image is
rebuilt). When a Docker Engine answers, the SIF is converted from the Docker
image of the same spec (``docker-daemon://``: the engine's layer cache makes the
model layers cheap); otherwise Apptainer builds it from the definition file.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import BuildError, LauncherError
from ..specs.model import ContainerSpec
from .apptainer import (
    Progress,
    SifResult,
    build_sif,
    sif_context,
    sif_dir,
    sif_name,
    stale_bases,
)

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

    def path(
        self, spec: ContainerSpec, runtime: str = "apptainer", via_docker: bool | None = None
    ) -> str:
        """The SIF of ``spec``: found by its hash, else built (if building is allowed).

        ``via_docker``: convert the Docker image of the spec (True), build from the
        definition file (False), or the former when an engine answers (None).
        """
        key = (repr(spec), runtime)
        if key not in self._paths:
            result = self.build(spec, runtime, via_docker)
            if not result.available:
                raise LauncherError(result.message)
            self._paths[key] = str(result.path)
        return self._paths[key]

    def build(
        self, spec: ContainerSpec, runtime: str = "apptainer", via_docker: bool | None = None
    ) -> SifResult:
        """Find or build the SIF of ``spec``; without Apptainer the result says how."""
        api = self.engine()
        ids: dict[str, str] = {}
        if api is not None:
            from .docker import base_ids

            ids = base_ids(api, spec)
        start = time.monotonic()
        context = sif_context(spec, self.docker.context_dir)
        found = self.out_dir / sif_name(context)
        if found.is_file() and not stale_bases(found, ids):
            return SifResult(found, False, (), f"{found} is up to date", time.monotonic() - start)
        if not self.docker.build_missing:
            state = (
                f"was built from an older {', '.join(stale_bases(found, ids))}"
                if found.is_file() else "is not built"
            )
            raise LauncherError(
                f"the {spec.name} image for {runtime} ({found}) {state}: run "
                "`sscontainer build --format apptainer` on the experiment file first, "
                "or pass --build"
            )
        if via_docker is None:
            via_docker = api is not None
        tag = self.docker.spec_image(spec) if via_docker else None
        return build_sif(
            spec, self.out_dir, context_dir=self.docker.context_dir, docker_tag=tag,
            base_ids=ids, runtime=runtime, quiet=self.docker.quiet, progress=self.progress,
        )
