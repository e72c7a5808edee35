"""Real Docker for the integration tests: the engine, with sscontainer's base image built."""

from __future__ import annotations

from collections.abc import Iterator

import docker
import pytest

from sscontainer.specs.entities import DEFAULT_BASE
from tests.conftest import require_service


@pytest.fixture(scope="module")
def engine() -> Iterator[docker.DockerClient]:
    try:
        client = docker.from_env()
        client.ping()
    except Exception as exc:
        require_service(False, "Docker Engine", f"start dockerd (.ci/docker-up.sh): {exc}")
    try:
        client.images.get(DEFAULT_BASE.ref)
    except docker.errors.ImageNotFound:
        require_service(False, f"image {DEFAULT_BASE.ref}", "build it with .ci/build-images.sh")
    yield client
