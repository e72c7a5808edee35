"""sscontainer's own images (``images/``): the runtime base and the orchestrator.

``python -m sscontainer.build.images`` builds them on top of the bootstrapped
Debian image (``images/bootstrap-base.sh``) and tags them
``sscontainer/<name>:<version>`` and ``:latest``; ``--write DIR`` (re)writes the
checked-in ``DIR/<name>/Dockerfile`` and ``<name>.def`` from the same specs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import docker

from ..errors import SSContainerError
from ..specs.entities import BOOTSTRAP_BASE, orchestrator_spec, runtime_base_spec
from ..specs.model import BaseImage, ContainerSpec
from ..version import __version__
from .context import write_specs
from .docker import BuiltImage, Progress, build_image, engine_client


def image_specs(bootstrap: str | BaseImage = BOOTSTRAP_BASE) -> list[ContainerSpec]:
    """The runtime base, then the orchestrator built on it (in build order)."""
    base = BaseImage(f"sscontainer/base:{__version__}", "docker-daemon")
    return [runtime_base_spec(bootstrap), orchestrator_spec(base)]


def build_images(
    bootstrap: str | BaseImage = BOOTSTRAP_BASE,
    *,
    quiet: bool = False,
    progress: Progress | None = None,
    client: docker.APIClient | None = None,
) -> dict[str, BuiltImage]:
    """Build (or find) each image and tag it ``sscontainer/<name>:<version>`` and ``:latest``."""
    api = client if client is not None else engine_client()
    out: dict[str, BuiltImage] = {}
    for spec in image_specs(bootstrap):
        built = build_image(spec, ".", quiet=quiet, progress=progress, client=api)
        for tag in (__version__, "latest"):
            api.tag(built.tag, f"sscontainer/{spec.name}", tag)
        out[spec.name] = built
    return out


def write_images(directory: str | Path, bootstrap: str | BaseImage = BOOTSTRAP_BASE) -> list[Path]:
    """Write ``<directory>/<name>/Dockerfile`` and ``<name>.def`` for every image."""
    written: list[Path] = []
    for spec in image_specs(bootstrap):
        files = write_specs(spec, Path(directory) / spec.name)
        written += [files.dockerfile, files.definition]
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sscontainer.build.images", description=__doc__)
    parser.add_argument("--bootstrap", default=BOOTSTRAP_BASE.ref,
                        help="the bootstrapped image to build on (default: %(default)s)")
    parser.add_argument("--write", metavar="DIR", help="write the Dockerfiles/defs, build nothing")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    args = parser.parse_args(argv)
    bootstrap = BaseImage(args.bootstrap, "docker-daemon")
    try:
        if args.write:
            for path in write_images(args.write, bootstrap):
                print(path)
            return 0
        for name, built in build_images(bootstrap, quiet=args.quiet).items():
            state = "built" if built.built else "up to date"
            print(f"sscontainer/{name}:{__version__} = {built.tag} "
                  f"({state}, {built.seconds:.1f} s)")
    except SSContainerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
