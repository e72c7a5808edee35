"""``sscontainer convert``: a user's Dockerfile <-> Apptainer definition, through spython.

spython (0.3.14) parses both formats; its writers have quirks that are fixed
here, and some differences no converter can remove. Review converted recipes.

Fixed here:
- ``CMD ["a", "b"]`` without ENTRYPOINT became ``%runscript exec /bin/bash a b``;
  the runscript is now ``exec a b "$@"`` (ENTRYPOINT + CMD, each argument quoted).
- A ``FROM`` without ``AS`` after a named stage was merged into that stage:
  unnamed stages are named ``stage-N`` before parsing.
- ``USER`` became ``su - USER`` inside ``%post`` (which would hang or fail); it is
  dropped: Apptainer runs as the calling user.
- Definition -> Dockerfile: each ``%post`` line became its own ``RUN`` (losing
  ``cd``, variables and multi-line constructs); ``%post`` now runs as one
  ``sh -e`` script. ``%files`` became ``ADD`` (which unpacks archives); now ``COPY``.
  A one-line ``exec …`` runscript becomes ``ENTRYPOINT`` in exec form.

Left as they are (documented differences):
- Docker ``ENV`` also appears as plain assignments in ``%post`` (build-time env),
  while Apptainer's ``%environment`` is not visible in ``%post``.
- ``WORKDIR`` becomes ``cd DIR`` at the top of the runscript.
- A multi-line ``%runscript`` becomes ``/entrypoint.sh`` written by ``echo "…"``
  lines, whose inner quotes spython does not escape.
- Only ``Bootstrap: docker``/``docker-daemon`` definitions can be parsed;
  ``localimage``, ``library`` and others are refused. Re-parsing a
  multi-stage definition may fail inside spython (``KeyError: 'spython-base'``).
"""

from __future__ import annotations

import json
import re
import shlex
import tempfile
from pathlib import Path
from typing import Any

from ..errors import MissingFileError, SSConfigError, SSUnsupportedError

DOCKER_FORMATS = ("docker", "dockerfile")
APPTAINER_FORMATS = ("apptainer", "singularity", "def")
_FROM = re.compile(r"^(\s*FROM\s+)(\S+)(\s*)$", re.IGNORECASE)


def detect_format(path: Path, text: str) -> str:
    """``docker`` or ``apptainer``, from the file's name, then its first instruction."""
    name = path.name.lower()
    if name.endswith(".def") or name.startswith(("singularity", "apptainer")):
        return "apptainer"
    if name.startswith("dockerfile") or name.endswith(".dockerfile"):
        return "docker"
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        return "apptainer" if stripped.lower().startswith("bootstrap:") else "docker"
    raise SSConfigError(f"{path}: empty recipe")


MAX_RECIPE_BYTES = 1 << 20  # a recipe is a page or two of text


def read_recipe(source: Path) -> str:
    """A recipe's text: refused when it is binary, not UTF-8 or far too big for one."""
    try:
        size = source.stat().st_size
        if size > MAX_RECIPE_BYTES:
            raise SSConfigError(
                f"{source} is {size} bytes, more than the limit of {MAX_RECIPE_BYTES} for a "
                "recipe: give a Dockerfile or an Apptainer definition file"
            )
        raw = source.read_bytes()
    except OSError as exc:
        raise SSConfigError(f"{source} cannot be read: {exc.strerror or exc}") from exc
    if b"\0" in raw:
        raise SSConfigError(
            f"{source} is a binary file, not a recipe: give a Dockerfile or an Apptainer "
            "definition file"
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SSConfigError(
            f"{source} is not UTF-8 text (byte {exc.start}): give a Dockerfile or an "
            "Apptainer definition file"
        ) from exc


def convert_recipe(path: str | Path, to_format: str) -> str:
    """The recipe at ``path`` rewritten in ``to_format`` (``docker`` or ``apptainer``)."""
    source = Path(path)
    if not source.is_file():
        raise MissingFileError(f"{source}: no such recipe file")
    target = to_format.lower()
    if target not in DOCKER_FORMATS + APPTAINER_FORMATS:
        raise SSConfigError(f"unknown format {to_format!r}: use docker or apptainer")
    text = read_recipe(source)
    src_format = detect_format(source, text)
    want = "docker" if target in DOCKER_FORMATS else "apptainer"
    if src_format == want:
        return text
    if src_format == "docker":
        return _docker_to_apptainer(text)
    return _apptainer_to_docker(text)


def _parse(text: str, kind: str) -> dict[str, Any]:
    from spython.logger import bot
    from spython.main.parse.parsers import DockerParser, SingularityParser

    level = bot.level
    bot.level = 0  # spython prints a warning per missing COPY source
    try:
        with tempfile.TemporaryDirectory(prefix="sscontainer-convert-") as tmp:
            path = Path(tmp) / ("Dockerfile" if kind == "docker" else "Singularity")
            path.write_text(text)
            parser = DockerParser if kind == "docker" else SingularityParser
            recipe: dict[str, Any] = parser(str(path)).recipe
            return recipe
    except NotImplementedError as exc:
        raise SSUnsupportedError(
            f"spython cannot read this definition ({exc}): only Bootstrap: docker and "
            "docker-daemon definitions can be converted"
        ) from exc
    except (KeyError, IndexError, ValueError, SystemExit) as exc:
        raise SSUnsupportedError(
            f"spython failed to parse the recipe ({type(exc).__name__}: {exc}); convert it by hand"
        ) from exc
    finally:
        bot.level = level


def _name_stages(text: str) -> str:
    lines = text.splitlines()
    count = 0
    for i, line in enumerate(lines):
        if re.match(r"\s*FROM\s", line, re.IGNORECASE):
            count += 1
        match = _FROM.match(line)
        if match:
            lines[i] = f"{match.group(1)}{match.group(2)} AS stage-{count}"
    return "\n".join(lines) + "\n"


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return shlex.split(str(value))


def _docker_to_apptainer(text: str) -> str:
    from spython.main.parse.writers import SingularityWriter

    recipe = _parse(_name_stages(text), "docker")
    for stage in recipe.values():
        stage.install = [line for line in stage.install if not re.match(r"\s*USER\s", line)]
    final = recipe[list(recipe)[-1]]
    argv = _as_list(final.entrypoint) + _as_list(final.cmd)
    writer = SingularityWriter(recipe)
    if argv:
        converted: str = writer.convert(runscript=shlex.join(argv), force=True)
    else:
        converted = writer.convert()
    return converted + "\n"


def _apptainer_to_docker(text: str) -> str:
    recipe = _parse(text, "apptainer")
    out: list[str] = ["# Converted from an Apptainer definition by sscontainer (spython)."]
    for name, stage in recipe.items():
        header = f"FROM {stage.fromHeader}"
        out.append(header if name == "spython-base" else f"{header} AS {name}")
        for pair in stage.files:
            out.append("COPY " + " ".join(str(pair).split()[:2]))
        for layer, pairs in stage.layer_files.items():
            for pair in pairs:
                out.append(f"COPY --from={layer} " + " ".join(str(pair).split()[:2]))
        for label in stage.labels:
            key, _, value = str(label).partition(" ")
            out.append(f"LABEL {key}={json.dumps(value.strip())}")
        if stage.install:
            # One sh -e script, as Apptainer runs %post; each line quoted for printf.
            script = " ".join(shlex.quote(line) for line in stage.install)
            out.append(
                f"RUN printf '%s\\n' {script} > /tmp/post.sh"
                " && sh -e /tmp/post.sh && rm /tmp/post.sh"
            )
        for env in stage.environ:
            out.append(f"ENV {env}")
        if stage.cmd:
            tokens = shlex.split(str(stage.cmd))
            if len(tokens) >= 2 and tokens[0] == "exec" and tokens[-1] == "$@":
                out.append(f"ENTRYPOINT {json.dumps(tokens[1:-1])}")
            else:
                out.append(f"CMD {json.dumps(['/bin/sh', '-c', str(stage.cmd)])}")
    return "\n".join(out) + "\n"
