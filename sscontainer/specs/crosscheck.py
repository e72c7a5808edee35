"""Check that a Dockerfile and an Apptainer definition describe the same image, with spython.

Both renderings are parsed back by spython's ``DockerParser`` and
``SingularityParser``; base image, copied files, install commands, runtime
environment, labels and entrypoint are compared stage by stage. A Docker stage
built on an earlier stage is compared as the whole chain, which is how the
Apptainer rendering writes it.

spython quirks this works around (spython 0.3.14):
- Docker ``ENV``/``ARG``/``WORKDIR`` and unknown instructions (``USER``) also
  land in ``install``; they are dropped before comparing.
- Every physical line of a ``RUN``/``%post`` continuation is its own entry;
  entries ending in a backslash are joined again.
- The definition parser lower-cases ``From:`` and stage names, and accepts only
  ``Bootstrap: docker*`` (``localimage`` is parsed as ``docker`` here).
- It looks for ``bootstrap``, ``from:`` and ``stage:`` anywhere in the first line
  of a section, so such a line can break parsing; that is reported, not hidden.
"""

from __future__ import annotations

import re
import shlex
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .model import ContainerSpec
from .render import render_apptainer, render_dockerfile


@dataclass
class ParsedStage:
    """One stage as spython saw it, normalised for comparison."""

    base: str = ""
    files: list[tuple[str, str]] = field(default_factory=list)
    stage_files: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    install: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    entrypoint: list[str] | None = None

    def extended(self, child: ParsedStage) -> ParsedStage:
        """This stage followed by ``child`` (a stage built on it)."""
        stage_files = {k: list(v) for k, v in self.stage_files.items()}
        for layer, pairs in child.stage_files.items():
            stage_files.setdefault(layer, []).extend(pairs)
        return ParsedStage(
            base=self.base,
            files=self.files + child.files,
            stage_files=stage_files,
            install=self.install + child.install,
            env={**self.env, **child.env},
            labels={**self.labels, **child.labels},
            entrypoint=child.entrypoint if child.entrypoint is not None else self.entrypoint,
        )


def crosscheck(spec: ContainerSpec) -> list[str]:
    """Disagreements between the spec's Dockerfile and Apptainer renderings (empty: none)."""
    return crosscheck_texts(render_dockerfile(spec), render_apptainer(spec))


def crosscheck_texts(dockerfile: str, definition: str, *, compare_base: bool = True) -> list[str]:
    """Disagreements between a Dockerfile and a definition file, given as text."""
    try:
        docker = parse_dockerfile(dockerfile)
    except Exception as exc:  # spython raises anything from KeyError to SystemExit
        return [f"spython could not parse the Dockerfile: {type(exc).__name__}: {exc}"]
    try:
        apptainer = parse_definition(definition)
    except Exception as exc:
        return [f"spython could not parse the Apptainer definition: {type(exc).__name__}: {exc}"]
    problems: list[str] = []
    if not docker:
        return ["the Dockerfile has no stage"]
    final = list(docker)[-1]
    for name, def_stage in apptainer.items():
        target = final if name == "spython-base" else name
        if target not in docker:
            problems.append(f"stage {name}: in the Apptainer definition but not in the Dockerfile")
            continue
        problems += _compare(target, docker[target], def_stage, compare_base)
    if final not in apptainer and "spython-base" not in apptainer:
        problems.append(f"stage {final}: the final Docker stage is missing from the definition")
    return problems


def _compare(name: str, dock: ParsedStage, app: ParsedStage, compare_base: bool) -> list[str]:
    out: list[str] = []
    if compare_base and not app.base.endswith(".sif") and dock.base.lower() != app.base.lower():
        out.append(f"stage {name}: base {dock.base!r} (Docker) != {app.base!r} (Apptainer)")
    checks: list[tuple[str, Any, Any]] = [
        ("files", sorted(dock.files), sorted(app.files)),
        ("files from stages", _sorted_pairs(dock.stage_files), _sorted_pairs(app.stage_files)),
        ("install steps", dock.install, app.install),
        ("environment", dock.env, app.env),
        ("labels", dock.labels, app.labels),
        ("entrypoint", dock.entrypoint, app.entrypoint),
    ]
    for what, left, right in checks:
        if left != right:
            out.append(
                f"stage {name}: {what} differ:\n  Docker:    {left!r}\n  Apptainer: {right!r}"
            )
    return out


def _sorted_pairs(data: dict[str, list[tuple[str, str]]]) -> dict[str, list[tuple[str, str]]]:
    return {k.lower(): sorted(v) for k, v in data.items()}


# --- parsing -------------------------------------------------------------------------
def _spython_parse(text: str, kind: str) -> dict[str, Any]:
    from spython.logger import bot
    from spython.main.parse.parsers import DockerParser, SingularityParser

    parser_cls = DockerParser if kind == "docker" else SingularityParser
    level = bot.level
    bot.level = 0  # QUIET: spython warns about every COPY source missing from the cwd
    try:
        with tempfile.TemporaryDirectory(prefix="sscontainer-crosscheck-") as tmp:
            path = Path(tmp) / ("Dockerfile" if kind == "docker" else "Singularity")
            path.write_text(text)
            recipe: dict[str, Any] = parser_cls(str(path)).recipe
            return recipe
    finally:
        bot.level = level


def _join_continuations(entries: list[str]) -> list[str]:
    """One entry per logical command line (``a && \\`` + ``b`` -> ``a && b``)."""
    out: list[str] = []
    pending = ""
    for entry in entries:
        entry = entry.strip()
        if not entry:
            continue
        if entry.endswith("\\"):
            pending += entry[:-1].rstrip() + " "
        else:
            out.append(pending + entry)
            pending = ""
    if pending:
        out.append(pending.rstrip())
    return out


_DOCKER_ESCAPE = re.compile(r'\\([\\$"])')


def docker_unquote(raw: str) -> str:
    """A Docker ENV/LABEL value as Docker reads it: ``"…"`` unescapes, ``'…'`` is literal."""
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        return _DOCKER_ESCAPE.sub(r"\1", raw[1:-1])
    if len(raw) >= 2 and raw[0] == raw[-1] == "'":
        return raw[1:-1]
    return raw


def _shell_unquote(raw: str) -> str:
    return "".join(shlex.split(raw)) if raw else ""


def parse_dockerfile(text: str) -> dict[str, ParsedStage]:
    """Stages of a Dockerfile as spython parses them, chains merged (see module doc)."""
    recipes = _spython_parse(text, "docker")
    merged: dict[str, ParsedStage] = {}
    for name, recipe in recipes.items():
        base = re.sub(r"\s+AS\s+.*$", "", str(recipe.fromHeader or ""), flags=re.I).strip()
        env_entries = list(recipe.environ)
        env = {}
        for entry in env_entries:
            key, _, raw = entry.partition("=")
            env[key] = docker_unquote(raw)
        install = [str(e).strip() for e in recipe.install]
        install = [e for e in install if e and e not in env_entries]
        install = [e for e in install if not e.startswith("#") and not re.match(r"USER\s", e)]
        if recipe.workdir:  # WORKDIR adds "mkdir -p X", "cd X": drop the last such pair
            pair = [f"mkdir -p {recipe.workdir}", f"cd {recipe.workdir}"]
            for i in range(len(install) - 2, -1, -1):
                if install[i : i + 2] == pair:
                    del install[i : i + 2]
                    break
        labels = {}
        for label in recipe.labels:
            for item in label if isinstance(label, list) else [label]:
                key, _, raw = str(item).partition("=")
                labels[key.strip()] = docker_unquote(raw.strip())
        entry = recipe.entrypoint
        if isinstance(entry, list):
            entrypoint: list[str] | None = [str(e) for e in entry]
        else:
            entrypoint = shlex.split(entry) if entry else None
        stage = ParsedStage(
            base=base,
            files=[(str(s), str(d)) for s, d in recipe.files],
            stage_files={
                layer: [(str(s), str(d)) for s, d in pairs]
                for layer, pairs in recipe.layer_files.items()
            },
            install=_join_continuations(install),
            env=env,
            labels=labels,
            entrypoint=entrypoint,
        )
        parent = merged.get(base.lower()) or merged.get(base)
        merged[name] = parent.extended(stage) if parent is not None else stage
    return merged


def parse_definition(text: str) -> dict[str, ParsedStage]:
    """Stages of an Apptainer definition as spython parses them."""
    # spython accepts only docker agents; the agent itself is not compared.
    text = re.sub(r"(?im)^(\s*Bootstrap:\s*)localimage\s*$", r"\1docker", text)
    recipes = _spython_parse(text, "singularity")
    out: dict[str, ParsedStage] = {}
    for name, recipe in recipes.items():
        env = {}
        for entry in recipe.environ:
            key, _, raw = entry.partition("=")
            env[key.strip()] = _shell_unquote(raw)
        labels = {}
        for line in recipe.labels:
            key, _, value = str(line).partition(" ")
            labels[key] = value.strip()
        entrypoint = None
        if recipe.cmd:
            tokens = shlex.split(str(recipe.cmd))
            if len(tokens) >= 2 and tokens[0] == "exec" and tokens[-1] == "$@":
                entrypoint = tokens[1:-1]
            else:
                entrypoint = tokens
        out[name] = ParsedStage(
            base=str(recipe.fromHeader or "").strip(),
            files=[_pair(f) for f in recipe.files],
            stage_files={
                layer: [_pair(f) for f in lines] for layer, lines in recipe.layer_files.items()
            },
            install=_join_continuations([str(e) for e in recipe.install]),
            env=env,
            labels=labels,
            entrypoint=entrypoint,
        )
    return out


def _pair(line: str) -> tuple[str, str]:
    parts = str(line).split()
    if len(parts) == 1:
        return (parts[0], parts[0])
    return (parts[0], " ".join(parts[1:]))
