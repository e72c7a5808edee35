"""Which runtime runs what: launcher defaults, runtime "none", the image's exe, SIF names."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from sscontainer import Experiment, RunSettings
from sscontainer.build.apptainer import failed_section, sif_context, sif_name, stale_bases
from sscontainer.entities.steps import HOST, Placement, model_step
from sscontainer.errors import SSConfigError, SSUnsupportedError
from sscontainer.launchers.runtimes import LAUNCHER_RUNTIMES, default_runtime, wrap_argv
from sscontainer.launchers.step import Step
from sscontainer.placement import Planner
from sscontainer.settings.containers import ContainerSettings
from sscontainer.specs import orchestrator_spec


def test_launcher_defaults() -> None:
    assert LAUNCHER_RUNTIMES == {"local": None, "docker": "docker", "slurm": "apptainer"}
    assert default_runtime("slurm") == "apptainer"
    with pytest.raises(SSConfigError, match="no default container runtime"):
        default_runtime("pbs")


@pytest.mark.parametrize(
    ("launcher", "settings", "expected"),
    [
        ("local", ContainerSettings(), None),
        ("local", ContainerSettings(runtime="apptainer"), None),
        ("docker", ContainerSettings(), "docker"),
        ("docker", ContainerSettings(runtime="apptainer"), "docker"),
        ("slurm", ContainerSettings(), "apptainer"),
        ("slurm", None, "apptainer"),
        ("slurm", ContainerSettings(runtime="singularity"), "singularity"),
        ("slurm", ContainerSettings(runtime="podman"), "podman"),
        ("slurm", ContainerSettings(runtime="none"), None),
        ("local", ContainerSettings(runtime="none"), None),
    ],
)
def test_runtime_for(
    tmp_path: Path, launcher: str, settings: ContainerSettings | None, expected: str | None
) -> None:
    assert Planner("e", str(tmp_path), launcher).runtime_for(settings) == expected


def test_runtime_none_is_refused_by_the_docker_launcher(tmp_path: Path) -> None:
    with pytest.raises(SSUnsupportedError, match="runtime 'none'"):
        Planner("e", str(tmp_path), "docker").runtime_for(ContainerSettings(runtime="none"))


def test_slurm_gives_every_model_the_default_container_and_runtime_none_keeps_it_home(
    tmp_path: Path,
) -> None:
    exp = Experiment("e", exp_path=str(tmp_path), launcher="slurm")
    rs = exp.create_run_settings("python3", ["x.py"])
    assert rs.container is exp.default_container and rs.exe == ["python3"]  # not resolved here
    home = Experiment("h", exp_path=str(tmp_path / "h"), launcher="slurm")
    home.default_container = ContainerSettings(runtime="none")
    model = home.create_model("m", home.create_run_settings("python3", ["x.py"]))
    planner = Planner("h", str(tmp_path / "h"), "slurm")
    planner.default_container = home.default_container
    assert planner.model(model) == HOST  # no image is asked for: nothing is built
    assert planner.orchestrator("db") == HOST
    assert Planner("l", str(tmp_path), "local").orchestrator("db") == HOST


def test_container_steps_run_the_images_exe_not_a_host_path(tmp_path: Path) -> None:
    """A run setting made without a container resolves its exe here; in an image the
    exe is the name the user gave (issue 11, item 8)."""
    exp = Experiment("e", exp_path=str(tmp_path), launcher="local")
    rs = RunSettings("python3", ["app.py"])  # no container: resolved on this host
    assert rs.exe[0].startswith("/") and rs.exe[0] != "python3"
    model = exp.create_model("m", rs)
    model.path = str(tmp_path / "m")
    in_image = Placement(image="/images/model.sif", runtime="apptainer")
    assert model_step(model, {}, in_image).argv == ("python3", "app.py")
    assert model_step(model, {}, HOST).argv == (rs.exe[0], "app.py")
    rs.exe = ["/opt/custom/bin/app"]  # set by hand afterwards: kept as the user wrote it
    assert model_step(model, {}, in_image).argv[0] == "/opt/custom/bin/app"
    colocated_rs = RunSettings("python3", ["app.py"])
    colocated = exp.create_model("c", colocated_rs)
    colocated.path = str(tmp_path / "c")
    colocated.colocate_db_uds()
    argv = model_step(colocated, {}, in_image).argv
    assert argv[:3] == ("python3", "-m", "sscontainer.db.colocated")  # the supervisor too
    assert argv[-2:] == ("python3", "app.py") and colocated_rs.exe[0] not in argv
    assert sys.executable not in argv


def test_runtime_args_follow_the_runtimes_own_command() -> None:
    step = Step("s", "Model", ("python3", "x.py"), "/r/s", "/r/s/o", "/r/s/e",
                image="/i/x.sif", runtime_args=("--contain", "--cleanenv"))
    assert wrap_argv(step, "apptainer")[:4] == ["apptainer", "exec", "--contain", "--cleanenv"]
    assert wrap_argv(step, "podman")[5:7] == ["--contain", "--cleanenv"]


@pytest.mark.parametrize(
    ("fatal", "section"),
    [
        ("FATAL:   While performing build: while running engine: while running %post "
         "section: exit status 1", "%post"),
        ("FATAL:   While performing build: unable to copy files from host to container fs: "
         "while copying [a] to /x", "%files"),
        ("FATAL:   While performing build: conveyor failed to get: reference does not exist",
         "Bootstrap/From (the base)"),
        ("FATAL:   While performing build: failed to execute %test script: exit status 3",
         "%test"),
    ],
)
def test_failed_section(fatal: str, section: str) -> None:
    assert failed_section(["INFO:    Starting build...", "+ false", fatal]) == section


def test_failed_section_falls_back_to_the_last_step() -> None:
    assert failed_section(["INFO:    Creating SIF file...", "mksquashfs died"]) == (
        "Creating SIF file..."
    )


def test_sif_name_and_recorded_bases(tmp_path: Path) -> None:
    spec = orchestrator_spec()
    name = sif_name(sif_context(spec, tmp_path))
    assert name.startswith("orchestrator-") and name.endswith(".sif")
    assert sif_name(sif_context(spec, tmp_path)) == name  # stable: a hash, no clock
    sif = tmp_path / name
    assert stale_bases(sif, {"sscontainer/base:1": "sha256:a"}) == []  # nothing recorded
    (tmp_path / sif.stem).mkdir()
    (tmp_path / sif.stem / "bases.json").write_text(json.dumps({"sscontainer/base:1": "sha256:a"}))
    assert stale_bases(sif, {"sscontainer/base:1": "sha256:a"}) == []
    assert stale_bases(sif, {"sscontainer/base:1": "sha256:b"}) == ["sscontainer/base:1"]


def test_runtime_base_installs_what_the_bootstrap_image_holds_when_missing() -> None:
    """On a registry's plain Debian image the base spec installs the packages that
    images/bootstrap-base.sh would have put in (the two lists must stay equal)."""
    import re

    from sscontainer.specs import runtime_base_spec
    from sscontainer.specs.entities import BOOTSTRAP_PACKAGES
    from sscontainer.specs.steps import AptInstall

    script = (Path(__file__).resolve().parents[2] / "images" / "bootstrap-base.sh").read_text()
    listed = re.search(r"(?m)^PACKAGES=(\S+)$", script)
    assert listed is not None and tuple(listed.group(1).split(",")) == BOOTSTRAP_PACKAGES
    first = runtime_base_spec("debian:bookworm-slim").final.steps[0]
    assert isinstance(first, AptInstall)
    assert first.packages == BOOTSTRAP_PACKAGES and first.unless_command == "redis-server"
