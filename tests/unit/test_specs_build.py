"""Build contexts, content-addressed tags, spec files and the no-Apptainer path (no engine needed)."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from sscontainer.build import build_sif, engine_client, prepare_context, write_specs
from sscontainer.build.context import write_context_tar
from sscontainer.build.wheels import WHEEL_ENV, sscontainer_wheel, wheelhouse_dir
from sscontainer.errors import BuildError, SSConfigError
from sscontainer.specs import BaseImage, ContainerSpec, Copy, Stage, User, Wheelhouse
from sscontainer.specs.crosscheck import crosscheck_texts


def file_spec(src: str | Path) -> ContainerSpec:
    return ContainerSpec(
        name="files",
        stages=(Stage("files", BaseImage("debian:bookworm-slim"),
                      (Copy(str(src), "/opt/app/sim.py"), Copy("data", "/opt/app/data"))),),
        user=User(),
    )


@pytest.fixture
def context_dir(tmp_path: Path) -> Path:
    (tmp_path / "sim.py").write_text("print(1)\n")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "in.txt").write_text("a")
    return tmp_path


def test_tag_is_content_addressed(context_dir: Path) -> None:
    spec = file_spec("sim.py")
    first = prepare_context(spec, context_dir)
    assert first.tag.startswith("sscontainer-files:")
    assert prepare_context(spec, context_dir).tag == first.tag
    (context_dir / "data" / "in.txt").write_text("b")  # a file inside a copied directory
    second = prepare_context(spec, context_dir)
    assert second.tag != first.tag
    (context_dir / "sim.py").chmod(0o755)  # the exec bit is content too
    assert prepare_context(spec, context_dir).tag != second.tag
    assert prepare_context(spec, context_dir, base_ids={"debian:bookworm-slim": "sha256:1"}).tag \
        != prepare_context(spec, context_dir, base_ids={"debian:bookworm-slim": "sha256:2"}).tag


def test_missing_source_names_the_file(context_dir: Path) -> None:
    with pytest.raises(SSConfigError, match="gone.py"):
        prepare_context(file_spec("gone.py"), context_dir)


def test_context_tar_holds_dockerfile_and_files_without_host_owners(context_dir: Path) -> None:
    os.utime(context_dir / "sim.py", (1_700_000_000, 1_700_000_000))
    context = prepare_context(file_spec(context_dir / "sim.py"), context_dir)
    buffer = io.BytesIO()
    write_context_tar(context, buffer)
    buffer.seek(0)
    with tarfile.open(fileobj=buffer) as tar:
        names = tar.getnames()
        assert names[0] == "Dockerfile"
        assert {"ctx/opt/app/sim.py", "ctx/opt/app/data", "ctx/opt/app/data/in.txt"} <= set(names)
        member = tar.getmember("ctx/opt/app/sim.py")
        assert (member.uid, member.mtime) == (0, 0)
        dockerfile = tar.extractfile("Dockerfile")
        assert dockerfile is not None and dockerfile.read().decode() == context.dockerfile


def test_write_specs_stages_a_self_contained_context(context_dir: Path, tmp_path: Path) -> None:
    spec = file_spec("sim.py")
    out = tmp_path / "out"
    files = write_specs(spec, out, context_dir=context_dir, stage_context=True)
    assert files.dockerfile == out / "Dockerfile" and files.definition == out / "files.def"
    assert crosscheck_texts(files.dockerfile.read_text(), files.definition.read_text()) == []
    assert files.disagreements == ()
    assert (out / "ctx/opt/app/sim.py").read_text() == "print(1)\n"
    assert (out / "ctx/opt/app/data/in.txt").read_text() == "a"
    plain = write_specs(spec, tmp_path / "plain")
    assert plain.context is None and not (tmp_path / "plain" / "ctx").exists()


def test_without_apptainer_the_def_and_command_are_written(
    context_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-path"))  # no apptainer, no singularity
    out = tmp_path / "sif"
    result = build_sif(file_spec("sim.py"), out, context_dir=context_dir, quiet=True)
    assert not result.built and not result.available
    assert "apptainer is not installed" in result.message
    assert result.command[:2] == ("apptainer", "build")
    assert result.path.parent == out and result.path.name.endswith(".sif")
    recipe = out / result.path.stem  # the .def, its context and the script, per hash
    assert result.command[2] == f"../{result.path.name}"
    assert result.command[3] == "files.def" and (recipe / "files.def").is_file()
    assert (recipe / "ctx/opt/app/sim.py").is_file()  # the .def builds from here as it is
    script = (recipe / "build-files.sh").read_text()
    assert "apptainer build" in script and os.access(recipe / "build-files.sh", os.X_OK)
    from_docker = build_sif(file_spec("sim.py"), tmp_path / "sif2", context_dir=context_dir,
                            docker_tag="sscontainer-files:abc", quiet=True)
    assert from_docker.command[-1] == "docker-daemon://sscontainer-files:abc"


def test_missing_engine_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    with pytest.raises(BuildError) as info:
        engine_client()
    assert "not reachable" in str(info.value)
    assert "dockerd" in str(info.value) and "apt-get install docker.io" in str(info.value)


def test_local_wheels_are_cached_by_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSCONTAINER_CACHE", str(tmp_path / "cache"))
    wheel = tmp_path / "demo-1.0-py3-none-any.whl"
    wheel.write_bytes(b"one")
    house = Wheelhouse(wheels=(str(wheel),))
    first = wheelhouse_dir(house)
    assert sorted(p.name for p in first.iterdir()) == [wheel.name]
    assert wheelhouse_dir(house) == first
    wheel.write_bytes(b"two")
    assert wheelhouse_dir(house) != first


def test_prebuilt_sscontainer_wheel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSCONTAINER_CACHE", str(tmp_path / "cache"))
    wheel = tmp_path / "sscontainer-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"wheel")
    monkeypatch.setenv(WHEEL_ENV, str(wheel))
    assert [p.name for p in sscontainer_wheel().iterdir()] == [wheel.name]
    monkeypatch.setenv(WHEEL_ENV, str(tmp_path / "other.whl"))
    with pytest.raises(SSConfigError, match=WHEEL_ENV):
        sscontainer_wheel()
