"""A containerized model runs the image's exe, never the path it resolved to on this host.

Issue 11, item 8: run settings made without container settings resolve ``python3``
on the driver's host (a venv path here); the docker launcher still gives every model
a container, where that path does not exist (it used to exit 127).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from sscontainer import Experiment, RunSettings, Status
from tests.conftest import require_service

pytestmark = pytest.mark.docker


def test_docker_launcher_runs_the_images_python(tmp_path: Path) -> None:
    try:
        import docker

        client = docker.from_env()
        client.ping()
        client.images.get("sscontainer/base:latest")
        ok, why = True, ""
    except Exception as exc:  # any engine/SDK failure means: not available
        ok, why = False, str(exc)
    require_service(ok, "Docker Engine with sscontainer/base", f".ci/docker-up.sh, "
                    f".ci/build-images.sh ({why})")
    exp = Experiment("exe", exp_path=str(tmp_path), launcher="docker")
    rs = RunSettings("python3", ["-c", "import sys; print(sys.executable)"])
    assert rs.exe != "python3" and rs.exe.startswith("/")  # resolved here, on the host
    model = exp.create_model("which", rs)
    exp.generate(model)
    exp.start(model)
    assert exp.get_status(model) == [Status.COMPLETED], (tmp_path / "which" / "which.err").read_text()
    inside = (tmp_path / "which" / "which.out").read_text().strip()
    assert inside == "/opt/sscontainer/venv/bin/python3" and inside != sys.executable


def test_run_takes_base_image(tmp_path: Path) -> None:
    import subprocess
    import textwrap

    (tmp_path / "exp.yaml").write_text(textwrap.dedent("""
        name: based
        models:
          - {name: hello, exe: echo, args: [hi]}
    """))

    def run(base: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "sscontainer.cli", "run", str(tmp_path / "exp.yaml"),
             "--launcher", "local", "--overwrite", "--quiet", "--base-image", base],
            capture_output=True, text=True, timeout=120,
        )

    bad = run("Not A Ref!")
    assert bad.returncode == 2 and "container base" in bad.stderr and "Traceback" not in bad.stderr
    good = run("python:3.11-slim")  # the local launcher builds nothing: accepted, runs
    assert good.returncode == 0, good.stderr
    assert (tmp_path / "based" / "hello" / "hello.out").read_text() == "hi\n"
