"""Render a ContainerSpec as a Dockerfile or an Apptainer definition (Jinja2 templates).

All format-specific knowledge lives here and in ``templates/``: how a value is
quoted, how stages map to ``FROM``/``Bootstrap`` headers, where runtime settings
go. Specs and entities never mention a format.

Host files reach both builds under the same *context name* (``ctx`` + the image
destination), so the two renderings name the same sources and a build context
is just those files laid out under their context names.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from ..errors import SSUnsupportedError
from ..version import __version__
from .model import BaseImage, ContainerSpec, Copy, Stage, merged_env

CONTEXT_PREFIX = "ctx"
DOCKERFILE_TEMPLATE = "Dockerfile.j2"
APPTAINER_TEMPLATE = "apptainer.def.j2"


def templates_dir() -> Path:
    """``sscontainer/templates`` in a wheel, else the repository's ``templates/`` (editable)."""
    packaged = resources.files("sscontainer") / "templates"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "templates"


def context_name(copy: Copy) -> str:
    """Where a host source sits in the build context (the same for both formats)."""
    return CONTEXT_PREFIX + copy.dest


def docker_quote(value: str) -> str:
    """Double-quoted for ENV/LABEL: Docker unescapes ``\\\\`` and ``\\$`` and expands
    nothing else (values containing ``"`` are refused by validation)."""
    return '"' + value.replace("\\", "\\\\").replace("$", "\\$") + '"'


def shell_quote(value: str) -> str:
    return shlex.quote(value)


def step_lines(commands: tuple[tuple[str, ...], ...]) -> list[str]:
    """Each command quoted for ``/bin/sh``; the templates chain them with ``&&``."""
    return [shlex.join(cmd) for cmd in commands]


def runscript(entrypoint: tuple[str, ...]) -> str:
    """One line on purpose: spython turns a multi-line runscript into a helper script."""
    return "exec " + shlex.join(entrypoint) + ' "$@"'


@cache
def _environment(directory: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # noqa: S701 - not HTML: values are quoted by the filters below
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["docker_quote"] = docker_quote
    env.filters["shell_quote"] = shell_quote
    env.filters["json"] = lambda v: json.dumps(list(v))
    return env


def _template(name: str) -> jinja2.Template:
    return _environment(str(templates_dir())).get_template(name)


# --- Docker --------------------------------------------------------------------------
@dataclass
class _DockerItem:
    kind: str  # "copy" or "run"
    src: str = ""
    dest: str = ""
    from_stage: str | None = None
    lines: list[str] = field(default_factory=list)


def _docker_items(stage: Stage) -> list[_DockerItem]:
    items: list[_DockerItem] = []
    for inst in stage.instructions:
        if isinstance(inst, Copy):
            src = inst.source if inst.from_stage else context_name(inst)
            assert isinstance(src, str)
            items.append(_DockerItem("copy", src, inst.dest, inst.from_stage))
        else:
            items.append(_DockerItem("run", lines=step_lines(inst.commands())))
    return items


def render_dockerfile(spec: ContainerSpec) -> str:
    """The spec as a Dockerfile (one ``FROM … AS stage`` per stage; legacy-builder syntax)."""
    stages: list[dict[str, Any]] = []
    for stage in spec.stages:
        base = stage.base
        external = isinstance(base, BaseImage)
        stages.append(
            {
                "name": stage.name,
                "from": base.ref if isinstance(base, BaseImage) else base,
                # A base image may end with a non-root USER: steps need root.
                "external": external,
                "items": _docker_items(stage),
                "env": list(stage.env.items()),
            }
        )
    return _template(DOCKERFILE_TEMPLATE).render(
        spec=spec, stages=stages, version=__version__
    )


# --- Apptainer -----------------------------------------------------------------------
def emitted_stages(spec: ContainerSpec) -> list[str]:
    """Stages written as Apptainer stages: the final one and those copied from.

    Apptainer cannot start a stage from an earlier stage's root file system, so a
    stage based on another is written as one stage holding the whole chain.
    """
    needed = {spec.final.name}
    for stage in spec.stages:
        for copy in stage.copies:
            if copy.from_stage is not None:
                needed.add(copy.from_stage)
    return [s.name for s in spec.stages if s.name in needed]


def _apptainer_stage(spec: ContainerSpec, name: str) -> dict[str, Any]:
    chain = spec.chain(name)
    root = spec.root_base(name)
    files: list[tuple[str, str]] = []
    stage_files: dict[str, list[tuple[str, str]]] = {}
    post: list[list[str]] = []
    for stage in chain:
        for inst in stage.instructions:
            if isinstance(inst, Copy):
                if inst.from_stage is None:
                    files.append((context_name(inst), inst.dest))
                else:
                    assert isinstance(inst.source, str)
                    # The source stage may be inlined into another emitted stage.
                    owner = _emitting_stage(spec, inst.from_stage)
                    stage_files.setdefault(owner, []).append((inst.source, inst.dest))
            else:
                post.append(step_lines(inst.commands()))
    return {
        "name": name,
        "agent": root.source,
        "from": root.sif if root.source == "localimage" else root.ref,
        "files": files,
        "stage_files": list(stage_files.items()),
        "post": post,
        "env": list(merged_env(chain).items()),
        "final": name == spec.final.name,
    }


def _emitting_stage(spec: ContainerSpec, name: str) -> str:
    """The emitted stage whose file system holds stage ``name``'s files."""
    emitted = emitted_stages(spec)
    if name in emitted:
        return name
    for candidate in emitted:
        if name in [s.name for s in spec.chain(candidate)]:
            return candidate
    raise SSUnsupportedError(f"stage {name} is not reachable from any Apptainer stage")


def render_apptainer(spec: ContainerSpec) -> str:
    """The spec as an Apptainer definition file (``Bootstrap``/``Stage``/``%files from``)."""
    names = emitted_stages(spec)
    stages = [_apptainer_stage(spec, n) for n in names]
    return _template(APPTAINER_TEMPLATE).render(
        spec=spec,
        stages=stages,
        multistage=len(stages) > 1,
        runscript=runscript(spec.entrypoint) if spec.entrypoint else None,
        version=__version__,
    )


def render(spec: ContainerSpec, fmt: str) -> str:
    """``fmt``: ``docker`` or ``apptainer`` (``singularity`` is an alias)."""
    if fmt in ("docker", "dockerfile"):
        return render_dockerfile(spec)
    if fmt in ("apptainer", "singularity", "def"):
        return render_apptainer(spec)
    raise SSUnsupportedError(f"unknown spec format {fmt!r}: use 'docker' or 'apptainer'")
