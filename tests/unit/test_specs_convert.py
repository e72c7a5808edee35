"""convert_recipe: users' Dockerfiles <-> Apptainer definitions through spython, quirks fixed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from sscontainer.errors import MissingFileError, SSConfigError, SSUnsupportedError
from sscontainer.specs import orchestrator_spec, render_apptainer, render_dockerfile
from sscontainer.specs.convert import convert_recipe, detect_format
from sscontainer.specs.crosscheck import parse_definition, parse_dockerfile

DOCKERFILE = """\
FROM python:3.11-slim AS build
RUN pip wheel -w /w six
FROM debian:bookworm
ENV GREETING="hello world"
COPY --from=build /w /w
COPY app.py /opt/app.py
USER 1000
CMD ["python3", "/opt/app.py", "an arg"]
"""

DEFINITION = """\
Bootstrap: docker
From: debian:bookworm

%files
    app.py /opt/app.py

%post
    cd /opt
    if [ -f app.py ]; then
        echo found
    fi

%environment
    export GREETING='hello world'

%labels
    maintainer team

%runscript
    exec python3 /opt/app.py "$@"
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_dockerfile_to_definition_fixes_spython_quirks(tmp_path: Path) -> None:
    out = convert_recipe(write(tmp_path, "Dockerfile", DOCKERFILE), "apptainer")
    stages = parse_definition(out)
    # The unnamed second FROM is its own stage, not merged into "build".
    assert list(stages) == ["build", "stage-2"]
    assert stages["build"].base == "python:3.11-slim"
    assert stages["stage-2"].base == "debian:bookworm"
    # CMD without ENTRYPOINT: no "/bin/bash" in front, arguments kept whole.
    assert stages["stage-2"].entrypoint == ["python3", "/opt/app.py", "an arg"]
    assert not re.search(r"(?m)^\s*su ", out)  # USER is not turned into "su -" in %post
    assert stages["stage-2"].env == {"GREETING": "hello world"}
    assert stages["stage-2"].stage_files == {"build": [("/w", "/w")]}


def test_definition_to_dockerfile_keeps_post_as_one_script(tmp_path: Path) -> None:
    out = convert_recipe(write(tmp_path, "app.def", DEFINITION), "docker")
    runs = [line for line in out.splitlines() if line.startswith("RUN ")]
    assert len(runs) == 1 and "sh -e /tmp/post.sh" in runs[0]  # cd and if..fi survive
    entry = [line for line in out.splitlines() if line.startswith("ENTRYPOINT ")]
    assert json.loads(entry[0].split(None, 1)[1]) == ["python3", "/opt/app.py"]
    stage = parse_dockerfile(out)["spython-base"]
    assert stage.files == [("app.py", "/opt/app.py")]  # COPY, not ADD
    assert stage.env == {"GREETING": "hello world"}
    assert stage.labels == {"maintainer": "team"}


def test_our_renderings_convert_to_the_same_content(tmp_path: Path) -> None:
    spec = orchestrator_spec()
    converted = convert_recipe(write(tmp_path, "Dockerfile", render_dockerfile(spec)), "apptainer")
    ours = parse_definition(render_apptainer(spec))["spython-base"]
    theirs = parse_definition(converted)["orchestrator"]
    assert theirs.files == ours.files and theirs.env == ours.env
    # WORKDIR becomes a "cd" before the exec (a documented difference).
    runscript = converted.split("%runscript", 1)[1].split("%", 1)[0].split("\n")
    assert [line.strip() for line in runscript if line.strip()] == [
        "cd /data", 'exec redis-server "$@"'
    ]


def test_same_format_returns_the_file_unchanged(tmp_path: Path) -> None:
    path = write(tmp_path, "Dockerfile", DOCKERFILE)
    assert convert_recipe(path, "dockerfile") == DOCKERFILE


def test_format_detection(tmp_path: Path) -> None:
    assert detect_format(Path("Singularity"), "") == "apptainer"
    assert detect_format(Path("x.def"), "") == "apptainer"
    assert detect_format(Path("recipe"), "# c\nBootstrap: docker\n") == "apptainer"
    assert detect_format(Path("recipe"), "FROM debian\n") == "docker"


def test_unsupported_inputs(tmp_path: Path) -> None:
    with pytest.raises(MissingFileError):
        convert_recipe(tmp_path / "nope", "docker")
    with pytest.raises(SSConfigError, match="unknown format"):
        convert_recipe(write(tmp_path, "Dockerfile", DOCKERFILE), "podman")
    local = write(tmp_path, "x.def", "Bootstrap: localimage\nFrom: base.sif\n\n%post\n    true\n")
    with pytest.raises(SSUnsupportedError, match="docker"):
        convert_recipe(local, "docker")
