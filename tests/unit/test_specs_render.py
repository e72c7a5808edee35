"""Rendered specs, checked by parsing them back (spython + a real shell), never by string equality."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest

from sscontainer.errors import SSConfigError
from sscontainer.settings.containers import ContainerSettings
from sscontainer.specs import (
    SOCKET_DIR,
    VENV,
    BaseImage,
    ContainerSpec,
    Copy,
    Run,
    Stage,
    User,
    colocated_spec,
    crosscheck,
    crosscheck_texts,
    model_spec,
    orchestrator_spec,
    render_apptainer,
    render_dockerfile,
    runtime_base_spec,
)
from sscontainer.specs.crosscheck import parse_definition, parse_dockerfile


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    (tmp_path / "app.py").write_text("print('hi')\n")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "x.txt").write_text("x")
    return tmp_path


@pytest.fixture
def settings(app_dir: Path) -> ContainerSettings:
    return ContainerSettings(
        apt=["curl"], pip=["six>=1.16"], copy=["app.py", "data"], env={"MODE": "fast"},
        root=app_dir,
    )


def instructions(dockerfile: str, keyword: str) -> list[str]:
    """Arguments of every top-level instruction ``keyword`` (continuations excluded)."""
    return [line.split(None, 1)[1] for line in dockerfile.splitlines()
            if line.startswith(keyword + " ")]


def section(definition: str, name: str) -> list[str]:
    """Lines of the ``%name`` sections of a definition, stripped."""
    out: list[str] = []
    current = None
    for line in definition.splitlines():
        if line.startswith("%"):
            current = line.split()[0][1:]
            continue
        if re.match(r"^(Bootstrap|From|Stage):", line):
            current = None
        if current == name and line.strip():
            out.append(line.strip())
    return out


def split_commands(line: str) -> list[list[str]]:
    """How /bin/sh reads an ``a && b`` line: unquoted ``&&`` separates commands."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    commands: list[list[str]] = [[]]
    for token in lexer:
        if token == "&&":
            commands.append([])
        else:
            commands[-1].append(token)
    return commands


def test_model_spec_holds_software_and_agrees(settings: ContainerSettings, app_dir: Path) -> None:
    spec = model_spec("sim", settings, app_dir)
    docker = parse_dockerfile(render_dockerfile(spec))["model"]
    app = parse_definition(render_apptainer(spec))["spython-base"]
    assert docker.base == "sscontainer/base:0.1.0"
    assert ("ctx/opt/app/app.py", "/opt/app/app.py") in docker.files
    assert ("ctx/opt/app/data", "/opt/app/data") in docker.files
    commands = [cmd for line in docker.install for cmd in split_commands(line)]
    assert ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y",
            "--no-install-recommends", "curl"] in commands
    pip = [c for c in commands if c[:2] == [f"{VENV}/bin/pip", "install"]]
    assert pip[0][-1] == "six>=1.16" and "--no-index" in pip[0]
    assert pip[1][-1] == "sscontainer" and "--no-deps" in pip[1]
    assert docker.env["MODE"] == "fast" and docker.env["VIRTUAL_ENV"] == VENV
    assert docker.env["PATH"].startswith(f"{VENV}/bin:")
    assert sorted(docker.files) == sorted(app.files)
    assert docker.install == app.install
    assert crosscheck(spec) == []


def test_model_runs_as_fixed_non_root_user(settings: ContainerSettings, app_dir: Path) -> None:
    dockerfile = render_dockerfile(model_spec("sim", settings, app_dir))
    assert instructions(dockerfile, "USER")[-1] == "1000:1000"
    assert instructions(dockerfile, "WORKDIR") == ["/opt/app"]
    custom = ContainerSettings(user="alice", uid=2001, gid=2002, root=app_dir)
    spec = model_spec("sim", custom, app_dir)
    assert instructions(render_dockerfile(spec), "USER")[-1] == "2001:2002"
    post = " ".join(section(render_apptainer(spec), "post"))
    assert "sh alice 2002 2001" in post  # the user is created in %post too


def test_spec_does_not_depend_on_member_name(settings: ContainerSettings, app_dir: Path) -> None:
    # An ensemble's members share one image: the entity name is not in the spec.
    first = model_spec("sweep_0", settings, app_dir)
    assert render_dockerfile(first) == render_dockerfile(model_spec("sweep_99", settings, app_dir))
    other = ContainerSettings(apt=["curl", "jq"], root=app_dir)
    assert render_dockerfile(first) != render_dockerfile(model_spec("sweep_0", other, app_dir))


def test_orchestrator_entrypoint_runs_the_server() -> None:
    spec = orchestrator_spec()
    docker = parse_dockerfile(render_dockerfile(spec))["orchestrator"]
    app = parse_definition(render_apptainer(spec))["spython-base"]
    assert docker.entrypoint == ["redis-server"] == app.entrypoint
    assert any("redis-server" in c for c in docker.install)  # installed unless present
    assert any("sscontainer" in c and "--no-deps" in c for c in docker.install)
    assert crosscheck(spec) == []


def test_colocated_spec_adds_server_socket_volume_and_supervisor(
    settings: ContainerSettings, app_dir: Path
) -> None:
    spec = colocated_spec(model_spec("sim", settings, app_dir))
    dockerfile = render_dockerfile(spec)
    assert [s.split()[-1] for s in instructions(dockerfile, "FROM")] == ["model", "colocated"]
    assert instructions(dockerfile, "VOLUME") == [f'["{SOCKET_DIR}"]']
    docker = parse_dockerfile(dockerfile)["colocated"]
    assert docker.entrypoint == [f"{VENV}/bin/python", "-m", "sscontainer.db.colocated"]
    assert f"mkdir -p {SOCKET_DIR} && chown 1000:1000 {SOCKET_DIR}" in docker.install
    # Apptainer writes the chain as one stage, the socket directory made in %post.
    definition = render_apptainer(spec)
    assert "Stage:" not in definition
    assert f"mkdir -p {SOCKET_DIR} && chown 1000:1000 {SOCKET_DIR}" in " ".join(
        section(definition, "post")
    ).replace("&& \\ ", "&& ").replace("\\ ", "")
    assert section(definition, "runscript") == [
        f'exec {VENV}/bin/python -m sscontainer.db.colocated "$@"'
    ]
    assert crosscheck(spec) == []


def test_multistage_copy_from_stage_agrees() -> None:
    spec = ContainerSpec(
        name="multi",
        stages=(
            Stage("build", BaseImage("python:3.11-slim"),
                  (Run((("pip", "wheel", "-w", "/w", "six"),)),)),
            Stage("tools", "build", (Run((("touch", "/w/marker"),)),)),
            Stage("final", BaseImage("debian:bookworm-slim"),
                  (Copy("/w", "/opt/wheels", from_stage="tools"),), {"A": "1"}),
        ),
        user=User(),
        entrypoint=("python3", "-c", "print('x y')"),
    )
    definition = render_apptainer(spec)
    assert re.findall(r"(?m)^Stage: (\S+)$", definition) == ["tools", "final"]
    assert "%files from tools" in definition
    # "tools" is based on "build": Apptainer gets the chain's steps in one stage.
    tools = parse_definition(definition)["tools"]
    assert tools.install == ["pip wheel -w /w six", "touch /w/marker"]
    assert tools.base == "python:3.11-slim"
    docker = parse_dockerfile(render_dockerfile(spec))
    assert docker["final"].stage_files == {"tools": [("/w", "/opt/wheels")]}
    assert crosscheck(spec) == []


@pytest.mark.parametrize(
    ("base", "agent", "source"),
    [
        (BaseImage("python:3.11-slim"), "docker", "python:3.11-slim"),
        (BaseImage("sscontainer/base:0.1.0", "docker-daemon"), "docker-daemon",
         "sscontainer/base:0.1.0"),
        (BaseImage("sscontainer/base:0.1.0", "localimage", sif="images/base.sif"), "localimage",
         "images/base.sif"),
    ],
)
def test_bootstrap_agents(base: BaseImage, agent: str, source: str) -> None:
    spec = runtime_base_spec(base)
    definition = render_apptainer(spec)
    assert re.findall(r"(?m)^Bootstrap: (\S+)$", definition) == [agent]
    assert re.findall(r"(?m)^From: (\S+)$", definition) == [source]
    assert instructions(render_dockerfile(spec), "FROM")[0].split()[0] == base.ref
    assert crosscheck(spec) == []


def test_crosscheck_reports_disagreements() -> None:
    spec = orchestrator_spec()
    dockerfile, definition = render_dockerfile(spec), render_apptainer(spec)
    assert crosscheck_texts(dockerfile, definition) == []
    no_env = definition.replace("    export PYTHONUNBUFFERED=1\n", "")
    assert any("environment" in p for p in crosscheck_texts(dockerfile, no_env))
    other_step = definition.replace("mkdir -p /data", "mkdir -p /elsewhere")
    assert any("install steps" in p for p in crosscheck_texts(dockerfile, other_step))
    other_entry = dockerfile.replace('ENTRYPOINT ["redis-server"]', 'ENTRYPOINT ["valkey-server"]')
    assert any("entrypoint" in p for p in crosscheck_texts(other_entry, definition))
    other_file = dockerfile.replace("COPY ctx/opt/sscontainer", "COPY ctx/opt/elsewhere")
    assert any("files" in p for p in crosscheck_texts(other_file, definition))
    other_base = definition.replace("From: sscontainer/base", "From: sscontainer/other")
    assert any("base" in p for p in crosscheck_texts(dockerfile, other_base))


def test_checked_in_images_match_their_specs() -> None:
    from sscontainer.build.images import image_specs

    images = Path(__file__).resolve().parents[2] / "images"
    for spec in image_specs():
        dockerfile = (images / spec.name / "Dockerfile").read_text()
        definition = (images / spec.name / f"{spec.name}.def").read_text()
        assert crosscheck_texts(dockerfile, definition) == []
        fresh = parse_dockerfile(render_dockerfile(spec))
        assert parse_dockerfile(dockerfile) == fresh, (
            f"images/{spec.name} is stale: run python -m sscontainer.build.images --write images"
        )


# --- hostile values ------------------------------------------------------------------
HOSTILE = [
    "$(touch /tmp/pwned)",
    "`id`",
    "a; rm -rf /",
    "it's",
    "back\\slash",
    "$HOME and ${PATH}",
    "&& echo x",
    "%post",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_env_values_are_quoted_in_both_formats(value: str, tmp_path: Path) -> None:
    spec = ContainerSpec(
        name="env", stages=(Stage("env", BaseImage("debian:bookworm-slim"), (), {"V": value}),)
    )
    # Apptainer sources %environment with a shell: run it and compare.
    exports = section(render_apptainer(spec), "environment")
    script = "\n".join(exports) + '\nprintf %s "$V"'
    out = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True,
                         cwd=tmp_path)
    assert out.stdout == value
    assert not (tmp_path / "pwned").exists()
    # Docker: one ENV line per variable, value unescaped exactly as Docker does.
    dockerfile = render_dockerfile(spec)
    assert len(instructions(dockerfile, "ENV")) == 1
    assert parse_dockerfile(dockerfile)["env"].env == {"V": value}
    assert crosscheck(spec) == []


@pytest.mark.parametrize("value", ["two\nlines", 'say "hi"', "nul\x00", "cr\r"])
def test_env_values_that_cannot_be_quoted_identically_are_refused(value: str) -> None:
    with pytest.raises(SSConfigError):
        ContainerSettings(env={"V": value})
    with pytest.raises(SSConfigError):
        Stage("s", BaseImage("debian:bookworm-slim"), (), {"V": value})


@pytest.mark.parametrize("arg", [*HOSTILE, 'dq"uote', "x\\", "#comment", "*"])
def test_hostile_arguments_stay_one_argument(arg: str) -> None:
    spec = ContainerSpec(
        name="run",
        stages=(Stage("run", BaseImage("debian:bookworm-slim"),
                      (Run((("echo", arg), ("printf", "%s", arg))),)),),
    )
    for stage in (parse_dockerfile(render_dockerfile(spec))["run"],
                  parse_definition(render_apptainer(spec))["spython-base"]):
        # The shell splits the line back into exactly the arguments given.
        assert split_commands(stage.install[0]) == [["echo", arg], ["printf", "%s", arg]]
    assert crosscheck(spec) == []


def test_newlines_in_commands_are_refused() -> None:
    with pytest.raises(SSConfigError):
        Run((("echo", "a\nRUN rm -rf /"),))
    with pytest.raises(SSConfigError):
        ContainerSpec(name="x", stages=(Stage("x", BaseImage("debian")),),
                      entrypoint=("sh", "-c", "a\nb"))
