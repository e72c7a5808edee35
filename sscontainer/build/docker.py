"""Build images with the Docker Engine (docker SDK, legacy builder, host networking)."""

from __future__ import annotations

import re
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import docker.errors

from ..errors import BuildError
from ..specs.model import BaseImage, ContainerSpec
from .context import prepare_context, write_context_tar

Progress = Callable[[str], None]
TAIL_LINES = 25
_STEP = re.compile(r"^Step \d+/\d+ : ")
ENGINE_FIX = (
    "start the Docker Engine (`.ci/docker-up.sh`, or `dockerd --iptables=false --bridge=none &` "
    "as root) or install it (`apt-get install docker.io`), and check DOCKER_HOST"
)


@dataclass(frozen=True)
class BuiltImage:
    """The image of a spec: ``built`` is False when an image with its tag already existed."""

    tag: str
    built: bool
    seconds: float


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def engine_client(timeout: int = 600) -> docker.APIClient:
    """A low-level client for the engine in the environment (DOCKER_HOST or the local socket)."""
    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
    except docker.errors.DockerException as exc:
        raise BuildError(f"the Docker Engine is not reachable ({exc}): {ENGINE_FIX}") from exc
    api: docker.APIClient = client.api
    return api


def image_exists(client: docker.APIClient, tag: str) -> bool:
    try:
        client.inspect_image(tag)  # type: ignore[no-untyped-call]
    except docker.errors.ImageNotFound:
        return False
    except docker.errors.DockerException as exc:
        raise BuildError(f"cannot ask the Docker Engine about {tag} ({exc}): {ENGINE_FIX}") from exc
    return True


def base_ids(client: docker.APIClient, spec: ContainerSpec) -> dict[str, str]:
    """Image id of every external base the engine already has (others are pulled by
    the build and named by their reference alone)."""
    ids: dict[str, str] = {}
    for stage in spec.stages:
        if isinstance(stage.base, BaseImage):
            try:
                info = client.inspect_image(stage.base.ref)  # type: ignore[no-untyped-call]
            except docker.errors.ImageNotFound:
                continue
            except docker.errors.DockerException as exc:
                raise BuildError(f"cannot inspect {stage.base.ref} ({exc}): {ENGINE_FIX}") from exc
            ids[stage.base.ref] = str(info.get("Id", ""))
    return ids


def build_image(
    spec: ContainerSpec,
    context_dir: str | Path = ".",
    *,
    no_cache: bool = False,
    quiet: bool = False,
    progress: Progress | None = None,
    client: docker.APIClient | None = None,
) -> BuiltImage:
    """Build ``spec`` unless an image with its content-addressed tag exists.

    ``context_dir`` resolves relative host paths of the spec. Progress shows one
    line per build step (and wheel builds) unless ``quiet``; ``no_cache`` builds
    again without the layer cache even when the tag exists. A failed build
    raises :class:`BuildError` with the failing step and the end of its log.
    """
    start = time.monotonic()
    say: Progress = progress or _stderr
    shown: Progress | None = None if quiet else say
    api = client if client is not None else engine_client()
    context = prepare_context(spec, context_dir, shown, base_ids(api, spec))
    tag = context.tag
    if not no_cache and image_exists(api, tag):
        if shown:
            shown(f"{tag} is up to date")
        return BuiltImage(tag, False, time.monotonic() - start)
    if shown:
        shown(f"building {tag} ({len(spec.stages)} stage(s))")
    with tempfile.TemporaryFile() as fileobj:
        write_context_tar(context, fileobj)
        fileobj.seek(0)
        _stream_build(api, fileobj, tag, no_cache, shown)
    if not image_exists(api, tag):
        raise BuildError(f"the engine reported no error but {tag} does not exist")
    return BuiltImage(tag, True, time.monotonic() - start)


def _stream_build(
    api: docker.APIClient, fileobj: Any, tag: str, no_cache: bool, shown: Progress | None
) -> None:
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    step = ""
    try:
        stream = api.build(
            fileobj=fileobj,
            custom_context=True,
            tag=tag,
            nocache=no_cache,
            rm=True,
            forcerm=True,  # also remove the containers of failed steps
            pull=False,
            network_mode="host",  # no default bridge on CI hosts; apt needs the network
            decode=True,
        )
        for chunk in stream:
            if "stream" in chunk:
                for line in str(chunk["stream"]).splitlines():
                    if not line.strip():
                        continue
                    tail.append(line)
                    if _STEP.match(line):
                        step = line
                        if shown:
                            shown(line)
            if "error" in chunk:
                detail = chunk.get("errorDetail", {}).get("message") or chunk["error"]
                tail.append(str(detail))
                raise BuildError(
                    f"building {tag} failed: {str(detail).strip()}",
                    step=step,
                    log_tail="\n".join(tail),
                )
    except docker.errors.APIError as exc:
        raise BuildError(
            f"the Docker Engine refused to build {tag}: {exc.explanation or exc}",
            step=step,
            log_tail="\n".join(tail),
        ) from exc
    except docker.errors.DockerException as exc:
        raise BuildError(
            f"lost the Docker Engine while building {tag} ({exc}): {ENGINE_FIX}"
        ) from exc
