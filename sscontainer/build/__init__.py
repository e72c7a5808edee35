"""Image builds: Docker Engine through the docker SDK, Apptainer through its CLI."""

from __future__ import annotations

from .apptainer import SifResult, build_sif, find_tool
from .context import BuildContext, SpecFiles, image_tag, prepare_context, write_specs
from .docker import BuiltImage, build_image, engine_client, image_exists
from .wheels import cache_dir, sscontainer_wheel, wheelhouse_dir

__all__ = [
    "BuildContext",
    "BuiltImage",
    "SifResult",
    "SpecFiles",
    "build_image",
    "build_sif",
    "cache_dir",
    "engine_client",
    "find_tool",
    "image_exists",
    "image_tag",
    "prepare_context",
    "sscontainer_wheel",
    "wheelhouse_dir",
    "write_specs",
]
