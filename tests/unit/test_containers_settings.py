"""ContainerSettings validation: every bad value is refused with a message that names it."""

from __future__ import annotations

from pathlib import Path

import pytest

from sscontainer.errors import MissingFileError, SSConfigError
from sscontainer.settings.containers import RUNTIMES, ContainerSettings
from sscontainer.specs import DEFAULT_BASE, BaseImage, base_image, model_spec


def test_defaults_are_a_non_root_build_on_sscontainers_base() -> None:
    c = ContainerSettings()
    assert (c.user, c.uid, c.gid) == ("sscontainer", 1000, 1000)
    assert c.runtime is None and c.needs_build  # None: the launcher's own runtime
    assert base_image(c.base) == DEFAULT_BASE


def test_runtime_none_runs_on_the_host_and_takes_no_image_settings() -> None:
    c = ContainerSettings(runtime="none")
    assert c.on_host and not c.needs_build
    for bad in ({"pip": ["numpy"]}, {"image": "x.sif"}, {"base": "debian:12"}):
        with pytest.raises(SSConfigError, match="runtime 'none' runs the entity on the host"):
            ContainerSettings(runtime="none", **bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_every_runtime_is_accepted(runtime: str) -> None:
    assert ContainerSettings(runtime=runtime).runtime == runtime


def test_unknown_runtime_is_refused() -> None:
    with pytest.raises(SSConfigError, match="runtime 'lxc' is not supported"):
        ContainerSettings(runtime="lxc")


def test_copy_paths_must_exist_and_are_made_absolute(tmp_path: Path) -> None:
    (tmp_path / "sim.py").write_text("")
    c = ContainerSettings(copy=["sim.py"], root=tmp_path)
    assert c.copy == (str(tmp_path / "sim.py"),)
    with pytest.raises(MissingFileError, match="missing.py"):
        ContainerSettings(copy=["missing.py"], root=tmp_path)


def test_copy_names_must_be_unique(tmp_path: Path) -> None:
    for d in ("a", "b"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "sim.py").write_text("")
    with pytest.raises(SSConfigError, match="sim.py"):
        ContainerSettings(copy=["a/sim.py", "b/sim.py"], root=tmp_path)


@pytest.mark.parametrize("name", ["my file.py", "a;b.py", "q'uote.py", 'd"q.py', "$HOME.py",
                                  "new\nline.py", "back`tick`.py"])
def test_hostile_file_names_are_refused(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text("")
    with pytest.raises(SSConfigError, match="cannot be used as a file name"):
        ContainerSettings(copy=[name], root=tmp_path)


@pytest.mark.parametrize("pkg", ["curl; rm -rf /", "curl && id", "$(id)", "Curl", "-y", "a b", ""])
def test_apt_names_cannot_break_out(pkg: str) -> None:
    with pytest.raises(SSConfigError, match="not a Debian package name"):
        ContainerSettings(apt=[pkg])


@pytest.mark.parametrize("req", ["numpy; import os", "numpy --index-url http://x", "-e .",
                                 "git+https://x/y", "numpy>=1 ; python_version<'4'", "$(id)"])
def test_pip_requirements_cannot_break_out(req: str) -> None:
    with pytest.raises(SSConfigError, match="pip requirement"):
        ContainerSettings(pip=[req])


@pytest.mark.parametrize("req", ["numpy", "torch>=2.1", "pkg[extra,other]==1.0", "a.b-c_d~=1.2",
                                 "x!=1.0,<2"])
def test_pip_requirements_accepted(req: str) -> None:
    assert ContainerSettings(pip=[req]).pip == (req,)


def test_local_wheels_must_exist(tmp_path: Path) -> None:
    wheel = tmp_path / "demo-1.0-py3-none-any.whl"
    with pytest.raises(MissingFileError):
        ContainerSettings(pip=[wheel.name], root=tmp_path)
    wheel.write_bytes(b"")
    assert ContainerSettings(pip=[wheel.name], root=tmp_path).pip == (str(wheel),)


@pytest.mark.parametrize("kwargs", [
    {"user": "root;id"}, {"user": "Bob"}, {"uid": -1}, {"gid": "1000"}, {"uid": True},
    {"uid": 2**31},
])
def test_user_and_ids_are_checked(kwargs: dict[str, object]) -> None:
    with pytest.raises(SSConfigError):
        ContainerSettings(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("key", ["A;B", "1X", "A B", "A=B", ""])
def test_env_keys_are_checked(key: str) -> None:
    with pytest.raises(SSConfigError, match="environment variable name"):
        ContainerSettings(env={key: "v"})


@pytest.mark.parametrize("ref", ["Python:3.11", "python:3.11 slim", "a;b", "python:3.11\n"])
def test_image_references_are_checked(ref: str) -> None:
    with pytest.raises(SSConfigError, match="not a Docker image reference"):
        ContainerSettings(base=ref)
    with pytest.raises(SSConfigError, match="not a Docker image reference"):
        ContainerSettings(image=ref)


def test_base_schemes_choose_the_apptainer_agent() -> None:
    assert base_image("python:3.11-slim") == BaseImage("python:3.11-slim", "docker")
    assert base_image("docker://python:3.11-slim") == BaseImage("python:3.11-slim", "docker")
    local = base_image("docker-daemon://sscontainer/base:0.1.0")
    assert local == BaseImage("sscontainer/base:0.1.0", "docker-daemon")
    assert ContainerSettings(base="registry.example.org:5000/team/img:1@sha256:" + "a" * 64)


def test_existing_image_means_no_build(tmp_path: Path) -> None:
    c = ContainerSettings(image="python:3.11-slim")
    assert not c.needs_build
    with pytest.raises(SSConfigError, match="used as it is"):
        model_spec("m", c, tmp_path)
    with pytest.raises(SSConfigError, match="cannot be combined"):
        ContainerSettings(image="python:3.11-slim", apt=["curl"])


def test_workdir_must_be_an_absolute_safe_path() -> None:
    assert ContainerSettings(workdir="/work//dir/").workdir == "/work/dir"
    for bad in ("relative", "/a b", "/a/../b", "/a;b"):
        with pytest.raises(SSConfigError):
            ContainerSettings(workdir=bad)


def test_single_string_instead_of_list_is_refused() -> None:
    with pytest.raises(SSConfigError, match="expected a list"):
        ContainerSettings(apt="curl")


def test_from_mapping_resolves_against_the_file_directory(tmp_path: Path) -> None:
    (tmp_path / "producer.py").write_text("")
    c = ContainerSettings.from_mapping(
        {"base": "python:3.11-slim", "pip": ["numpy"], "copy": ["producer.py"],
         "runtime": "apptainer"},
        root=tmp_path,
    )
    assert c.copy == (str(tmp_path / "producer.py"),) and c.runtime == "apptainer"
    with pytest.raises(SSConfigError, match="unknown keys \\['packages'\\]"):
        ContainerSettings.from_mapping({"packages": ["x"]}, root=tmp_path)
