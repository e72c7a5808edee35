"""Building SIFs with real Apptainer: from the definition file, no-op rebuilds, build errors.

The experiment images build on sscontainer's base (Docker Engine); the error and
progress cases build on a tiny busybox SIF made here in a second.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sscontainer.build.apptainer import build_sif
from sscontainer.errors import BuildError
from sscontainer.specs import BaseImage, ContainerSpec, Copy, Stage
from sscontainer.specs.steps import Run
from tests.integration.apptainer_support import require_apptainer, require_docker_base

pytestmark = [pytest.mark.apptainer, pytest.mark.timeout(900)]
BUSYBOX = "/usr/bin/busybox"


@pytest.fixture(scope="module")
def tiny_sif(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SIF holding a static busybox: a base whose builds take a second or two."""
    require_apptainer()
    if not os.path.isfile(BUSYBOX):
        pytest.skip("busybox is not installed (apt-get install busybox-static)")
    root = tmp_path_factory.mktemp("tiny")
    rootfs = root / "rootfs"
    for sub in ("bin", "tmp", "opt", "etc"):
        (rootfs / sub).mkdir(parents=True)
    shutil.copy2(BUSYBOX, rootfs / "bin" / "busybox")
    for tool in ("sh", "echo", "cat", "mkdir", "true", "false"):
        os.symlink("busybox", rootfs / "bin" / tool)
    sif = root / "tiny.sif"
    done = subprocess.run(["apptainer", "build", str(sif), str(rootfs)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return sif


def tiny_spec(sif: Path, *instructions: object, name: str = "tiny") -> ContainerSpec:
    base = BaseImage("tiny", "localimage", sif=str(sif))
    return ContainerSpec(name=name, stages=(Stage("tiny", base, tuple(instructions)),))  # type: ignore[arg-type]


def test_post_failure_names_post_and_its_output(tiny_sif: Path, tmp_path: Path) -> None:
    spec = tiny_spec(tiny_sif, Run((("sh", "-c", "echo about to fail; exit 3"),)))
    with pytest.raises(BuildError) as info:
        build_sif(spec, tmp_path / "out", context_dir=tmp_path, quiet=True)
    assert info.value.step == "%post"
    assert "build failed in %post" in str(info.value)
    assert "about to fail" in info.value.log_tail
    assert not list((tmp_path / "out").glob("*.sif")) and not list((tmp_path / "out").glob(".*.sif"))


def test_files_failure_names_files(tiny_sif: Path, tmp_path: Path) -> None:
    (tmp_path / "data.txt").write_text("x")
    spec = tiny_spec(tiny_sif, Copy("data.txt", "/bin/sh/data.txt"))  # /bin/sh is a file
    with pytest.raises(BuildError) as info:
        build_sif(spec, tmp_path / "out", context_dir=tmp_path, quiet=True)
    assert info.value.step == "%files", str(info.value)


def test_bad_base_names_the_bootstrap(tmp_path: Path) -> None:
    require_apptainer()
    broken = tmp_path / "broken.sif"
    broken.write_bytes(b"not an image")
    with pytest.raises(BuildError) as info:
        build_sif(tiny_spec(broken), tmp_path / "out", context_dir=tmp_path, quiet=True)
    assert info.value.step.startswith("Bootstrap/From"), str(info.value)


def test_progress_is_streamed_unless_quiet_and_a_changed_base_renames(
    tiny_sif: Path, tmp_path: Path
) -> None:
    spec = tiny_spec(tiny_sif, Run((("mkdir", "-p", "/opt/made"),)))
    lines: list[str] = []
    built = build_sif(spec, tmp_path / "out", context_dir=tmp_path, progress=lines.append)
    assert built.built and built.available
    assert any(line.startswith("apptainer: INFO:") for line in lines)
    assert any("Running post scriptlet" in line for line in lines)
    quiet: list[str] = []
    again = build_sif(spec, tmp_path / "out", context_dir=tmp_path, quiet=True,
                      progress=quiet.append)
    assert not again.built and again.path == built.path and quiet == []
    made = subprocess.run(["apptainer", "exec", str(built.path), "sh", "-c", "test -d /opt/made"],
                          capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    # a base rebuilt in place is another input: another name, built again
    os.utime(tiny_sif, ns=(1, 1))
    rebased = build_sif(spec, tmp_path / "out", context_dir=tmp_path, quiet=True)
    assert rebased.built and rebased.path != built.path


def test_build_format_apptainer_builds_from_the_definition_file(tmp_path: Path) -> None:
    """`sscontainer build --format apptainer`: Apptainer's own build of the rendered .def;
    a second build finds the image by its hash without calling apptainer at all."""
    require_apptainer()
    require_docker_base()
    (tmp_path / "hello.py").write_text('import os\nprint("hello", os.environ["GREETING"])\n')
    (tmp_path / "experiment.yaml").write_text(textwrap.dedent("""
        name: defbuild
        container: {copy: [hello.py], env: {GREETING: "from the image"}}
        models:
          - {name: hello, exe: python3, args: [hello.py]}
    """))
    env = {**os.environ, "SSCONTAINER_CACHE": str(tmp_path / "cache")}  # a fresh build
    argv = [sys.executable, "-m", "sscontainer.cli", "build", "--format", "apptainer",
            str(tmp_path / "experiment.yaml")]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "from model.def" in done.stderr and "Running post scriptlet" in done.stderr
    name, path = done.stdout.strip().split(": ", 1)
    sif = Path(path)
    assert name == "model" and sif.parent == tmp_path / "cache" / "sif" and sif.is_file()
    assert (sif.parent / sif.stem / "model.def").read_text().startswith("# Generated by")
    run = subprocess.run(["apptainer", "exec", "--pwd", "/opt/app", str(sif), "python3", "hello.py"],
                         capture_output=True, text=True, timeout=120)
    assert run.stdout == "hello from the image\n", run.stderr
    labels = subprocess.run(["apptainer", "inspect", "--labels", str(sif)],
                            capture_output=True, text=True, timeout=60).stdout
    assert "org.sscontainer.role: model" in labels
    mtime = sif.stat().st_mtime_ns
    # the no-op path: no apptainer on PATH, so any build attempt would fail
    no_tool = {**env, "PATH": os.path.dirname(sys.executable) + ":/usr/bin:/bin"}
    shadow = [d for d in no_tool["PATH"].split(":") if os.path.exists(f"{d}/apptainer")]
    assert not shadow, f"apptainer is still on {shadow}"
    again = subprocess.run(argv + ["--quiet"], capture_output=True, text=True, env=no_tool,
                           timeout=300)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == done.stdout.strip()
    assert sif.stat().st_mtime_ns == mtime
