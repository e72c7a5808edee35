"""SmartSim's ``Singularity`` container on run settings, with real Apptainer.

The SIF is built once from sscontainer's base image in the local Docker Engine
and cached by that image's id.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sscontainer import Experiment, Status
from sscontainer.errors import SSUnsupportedError
from sscontainer.settings import Container, Singularity
from tests.conftest import require_service
from tests.integration.slurm_support import HOW, slurm_up

BASE_IMAGE = "sscontainer/base:latest"
CACHE = Path(os.environ.get("SSC_TEST_CACHE", "/tmp/sscontainer-test-cache"))
PROBE = "import os; print(os.getcwd(), os.path.isdir('/data'), os.environ.get('SSKEYOUT'))"


def test_singularity_argv_follows_smartsim() -> None:
    image = "docker://alrigazzi/smartsim-testing:latest"
    assert Singularity(image).container_argv()[1:] == ["exec", image]
    argv = Singularity(image, args="--verbose", mount="/usr/local/bin").container_argv()
    assert argv[1:] == ["exec", "--verbose", "--bind", "/usr/local/bin", image]
    argv = Singularity(image, args=["--verbose", "--cleanenv"],
                       mount={"/usr/local/bin": "/bin", "/lus/datasets": None}).container_argv("/run")
    assert argv[1:] == ["exec", "--pwd", "/run", "--verbose", "--cleanenv", "--bind",
                        "/run,/usr/local/bin:/bin,/lus/datasets", image]
    with pytest.raises(TypeError):
        Singularity(5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Singularity(image, mount=5)  # type: ignore[arg-type]
    with pytest.raises(SSUnsupportedError):
        Container(image).container_argv()
    assert Container("docker://python:3.11").to_container_settings().image == "python:3.11"


def _sif() -> Path:
    require_service(shutil.which("apptainer") is not None, "Apptainer",
                    "see the project's apptainer recipe (.ci installs it)")
    inspect = subprocess.run(["docker", "image", "inspect", "-f", "{{.Id}}", BASE_IMAGE],
                             capture_output=True, text=True, timeout=60)
    require_service(inspect.returncode == 0, BASE_IMAGE, "run .ci/build-images.sh")
    sif = CACHE / f"base-{inspect.stdout.strip().split(':')[-1][:16]}.sif"
    if not sif.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        partial = sif.with_suffix(".partial.sif")
        subprocess.run(["apptainer", "build", "--force", str(partial), f"docker-daemon://{BASE_IMAGE}"],
                       check=True, capture_output=True, timeout=900)
        partial.rename(sif)
    return sif


@pytest.mark.parametrize("launcher", ["local", "slurm"])
def test_singularity_runs_the_model_in_the_image(launcher: str, tmp_path: Path) -> None:
    sif = _sif()
    if launcher == "slurm":
        require_service(slurm_up(), "a Slurm cluster", HOW)
    data = tmp_path / "data"
    data.mkdir()
    exp = Experiment("sing", exp_path=str(tmp_path / "exp"), launcher=launcher)
    container = Singularity(str(sif), mount={str(data): "/data"})
    rs = exp.create_run_settings("python3", ["-c", PROBE], container=container)
    assert rs.exe == ["python3"]  # the executable lives in the image: not resolved here
    model = exp.create_model("inside", rs)
    model.enable_key_prefixing()
    exp.start(model, block=True)
    out = (Path(model.path) / "inside.out").read_text().split()
    err = (Path(model.path) / "inside.err").read_text()
    assert exp.get_status(model) == [Status.COMPLETED], err[-2000:]
    # the run directory is bound at its own path and is the working directory; the mount
    # is there; the model's environment reaches the container
    assert out == [model.path, "True", "inside"], err[-2000:]
    if launcher == "slurm":
        script = (Path(model.path) / "inside.sbatch").read_text()
        assert "srun" in script and "exec --pwd" in script and str(sif) in script
    assert sys.executable not in out
