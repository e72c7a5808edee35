"""Real image builds against the real Docker Engine (few and small: they run in CI).

Needs a running engine (.ci/docker-up.sh) and sscontainer's base image
(.ci/build-images.sh): skipped locally without them, failing in CI.
"""

from __future__ import annotations

import base64
import hashlib
import socket
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest
import redis
from docker.utils import kwargs_from_env

from sscontainer.build import build_image, build_sif, engine_client, image_exists
from sscontainer.build.wheels import WHEEL_ENV, sscontainer_wheel
from sscontainer.errors import BuildError
from sscontainer.settings.containers import ContainerSettings
from sscontainer.specs import (
    DEFAULT_BASE,
    SOCKET_DIR,
    ContainerSpec,
    Run,
    Stage,
    base_image,
    colocated_spec,
    model_spec,
    orchestrator_spec,
)
from tests.conftest import require_service

pytestmark = pytest.mark.docker
HOSTILE = "x y $HOME 'q' ; `id` $(id) \\ end"


class CountingAPIClient(docker.APIClient):
    """A real client that counts the build requests it sends to the engine."""

    builds = 0

    def build(self, *args: Any, **kwargs: Any) -> Any:
        type(self).builds += 1
        return super().build(*args, **kwargs)


@pytest.fixture(scope="module")
def api() -> docker.APIClient:
    try:
        client = engine_client()
    except BuildError as exc:
        require_service(False, "Docker Engine", str(exc))
        raise
    require_service(
        image_exists(client, DEFAULT_BASE.ref),
        f"sscontainer's base image {DEFAULT_BASE.ref}",
        "run .ci/build-images.sh (after .ci/docker-up.sh)",
    )
    return client


@pytest.fixture(scope="module", autouse=True)
def pinned_sscontainer_wheel(api: docker.APIClient) -> Iterator[None]:
    """One sscontainer wheel for the module: a checkout edited meanwhile keeps its tags."""
    wheel = next(sscontainer_wheel().glob("sscontainer-*.whl"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(WHEEL_ENV, str(wheel))
        yield


@pytest.fixture(scope="module")
def engine(api: docker.APIClient) -> docker.DockerClient:
    return docker.from_env()


def make_wheel(directory: Path) -> Path:
    """A minimal pure-Python wheel, made by hand so the test needs no index."""
    files = {
        "sscdemo/__init__.py": "VALUE = 42\n",
        "sscdemo-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: sscdemo\nVersion: 1.0\n",
        "sscdemo-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\n"
        "Root-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for name, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{name},sha256={digest.decode()},{len(text.encode())}")
    record.append("sscdemo-1.0.dist-info/RECORD,,")
    path = directory / "sscdemo-1.0-py3-none-any.whl"
    stamp = (2020, 1, 1, 0, 0, 0)  # same bytes every run: images of it are found, not rebuilt
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in files.items():
            zf.writestr(zipfile.ZipInfo(name, stamp), text)
        zf.writestr(zipfile.ZipInfo("sscdemo-1.0.dist-info/RECORD", stamp), "\n".join(record) + "\n")
    return path


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> tuple[ContainerSpec, Path]:
    root = tmp_path_factory.mktemp("model")
    (root / "app.py").write_text("import sscdemo\nprint('app', sscdemo.VALUE)\n")
    make_wheel(root)
    settings = ContainerSettings(
        pip=["six", "sscdemo-1.0-py3-none-any.whl"], copy=["app.py"], env={"HOSTILE": HOSTILE},
        root=root,
    )
    return model_spec("producer", settings, root), root


@pytest.fixture(scope="module")
def model_tag(api: docker.APIClient, model: tuple[ContainerSpec, Path]) -> str:
    lines: list[str] = []
    built = build_image(model[0], model[1], progress=lines.append, client=api)
    if built.built:  # one progress line per step
        assert any(line.startswith("Step 1/") for line in lines)
    return built.tag


def run(engine: docker.DockerClient, image: str, argv: list[str], **kwargs: Any) -> str:
    out = engine.containers.run(image, argv, network_mode="none", remove=True, **kwargs)
    return bytes(out).decode().strip()


def test_model_image_runs_its_software_as_non_root(
    engine: docker.DockerClient, model_tag: str
) -> None:
    assert run(engine, model_tag, ["id", "-u"]) == "1000"
    assert run(engine, model_tag, ["id", "-un"]) == "sscontainer"
    check = "import numpy, redis, six, sscdemo, sscontainer; print(sscontainer.__version__)"
    assert run(engine, model_tag, ["python", "-c", check]) == "0.1.0"
    assert "0.1.0" in run(engine, model_tag, ["sscontainer", "--version"])
    assert run(engine, model_tag, ["python", "app.py"]) == "app 42"  # workdir holds the copy
    env = run(engine, model_tag, ["python", "-c", "import os; print(os.environ['HOSTILE'])"])
    assert env == HOSTILE


def test_unchanged_rebuild_does_not_call_the_builder(
    model: tuple[ContainerSpec, Path], model_tag: str
) -> None:
    counting = CountingAPIClient(**kwargs_from_env())
    CountingAPIClient.builds = 0
    again = build_image(model[0], model[1], quiet=True, client=counting)
    assert (again.tag, again.built, CountingAPIClient.builds) == (model_tag, False, 0)


def test_failing_step_raises_build_error_with_step_and_log(api: docker.APIClient) -> None:
    broken = ContainerSpec(
        name="broken",
        stages=(Stage("broken", base_image(None),
                      (Run((("sh", "-c", "echo before-the-failure; exit 3"),)),)),),
    )
    counting = CountingAPIClient(**kwargs_from_env())
    CountingAPIClient.builds = 0
    with pytest.raises(BuildError) as info:
        build_image(broken, ".", quiet=True, client=counting)
    assert CountingAPIClient.builds == 1
    assert info.value.step.startswith("Step 3/3 : RUN sh -c")
    assert "before-the-failure" in info.value.log_tail
    assert "returned a non-zero code: 3" in str(info.value)


@pytest.fixture(scope="module")
def colocated_tag(api: docker.APIClient, model: tuple[ContainerSpec, Path]) -> str:
    return build_image(colocated_spec(model[0]), model[1], quiet=True, client=api).tag


def test_colocated_image_has_server_supervisor_and_socket_volume(
    engine: docker.DockerClient, colocated_tag: str
) -> None:
    built_tag = colocated_tag
    config = engine.images.get(built_tag).attrs["Config"]
    assert config["Entrypoint"][1:] == ["-m", "sscontainer.db.colocated"]
    assert list(config["Volumes"]) == [SOCKET_DIR] and config["User"] == "1000:1000"
    volume = engine.volumes.create()
    try:
        probe = f"redis-server --version >/dev/null && touch {SOCKET_DIR}/probe && echo ok"
        out = run(engine, built_tag, ["-c", probe], entrypoint="sh",
                  volumes={volume.name: {"bind": SOCKET_DIR, "mode": "rw"}})
        assert out == "ok"  # a fresh named volume is writable by the non-root user
    finally:
        volume.remove(force=True)


def test_colocated_supervisor_serves_the_app_over_the_shared_socket(
    engine: docker.DockerClient, colocated_tag: str, tmp_path: Path
) -> None:
    from sscontainer.db.colocated_config import ColocatedConfig

    config = tmp_path / "colocated.json"
    config.write_text(ColocatedConfig(unix_socket=f"{SOCKET_DIR}/db.socket").to_json())
    tmp_path.chmod(0o755)  # the image's user (uid 1000) reads the bind-mounted config
    config.chmod(0o644)
    app = ("import os, redis; r = redis.Redis(unix_socket_path=os.environ['SSDB'][7:]); "
           "r.set('k', 'v'); print(os.environ['SSDB'], r.get('k').decode())")
    volume = engine.volumes.create()
    try:
        argv = ["--config", "/cfg/colocated.json", "--", "python", "-c", app]
        out = run(engine, colocated_tag, argv,
                  volumes={volume.name: {"bind": SOCKET_DIR, "mode": "rw"},
                           str(tmp_path): {"bind": "/cfg", "mode": "ro"}})
    finally:
        volume.remove(force=True)
    assert out.splitlines()[-1] == f"unix://{SOCKET_DIR}/db.socket v"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def orchestrator(api: docker.APIClient, engine: docker.DockerClient) -> Iterator[int]:
    built = build_image(orchestrator_spec(), ".", quiet=True, client=api)
    port = free_port()
    args = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    container = engine.containers.run(built.tag, args, network_mode="host", detach=True)
    try:
        yield port
    finally:
        container.remove(force=True)


def test_orchestrator_image_serves_ping(orchestrator: int) -> None:
    client = redis.Redis(host="127.0.0.1", port=orchestrator, socket_timeout=2)
    deadline = time.monotonic() + 30  # a bound on start-up, not a timing assertion
    while True:
        try:
            assert client.ping() is True
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_apptainer_image_or_exact_instructions(
    tmp_path: Path, model: tuple[ContainerSpec, Path], model_tag: str
) -> None:
    # the shared image cache (SSCONTAINER_CACHE): content-addressed, built at most once
    result = build_sif(model[0], context_dir=model[1], docker_tag=model_tag, quiet=True)
    recipe = result.path.parent / result.path.stem
    assert (recipe / "model.def").is_file() and (recipe / "build-model.sh").is_file()
    if result.built:
        assert result.available and result.command[-1] == f"docker-daemon://{model_tag}"
    elif not result.available:
        assert "not installed" in result.message
        assert result.command[-1] == f"docker-daemon://{model_tag}"
    else:
        assert result.message.endswith("is up to date")
