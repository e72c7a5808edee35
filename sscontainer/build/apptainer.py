"""Build Apptainer (or Singularity) images, or say exactly how when the tool is missing.

From a Docker image of the same spec (``docker-daemon://tag``, the fast path on
a workstation) or from the definition file with its staged context (on a
cluster without Docker). The .sif is named by the same content hash as the
Docker tag, so an unchanged spec is not rebuilt.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import BuildError, SSConfigError
from ..specs.model import ContainerSpec
from .context import TAG_LENGTH, prepare_context, write_specs

Progress = Callable[[str], None]
TOOLS = {"apptainer": ("apptainer", "singularity"), "singularity": ("singularity", "apptainer")}


@dataclass(frozen=True)
class SifResult:
    """An Apptainer image, or (``built`` False, ``path`` missing) how to build it."""

    path: Path
    built: bool
    command: tuple[str, ...]  # run in ``path.parent``
    message: str
    seconds: float = 0.0

    @property
    def available(self) -> bool:
        return self.path.is_file()


def find_tool(runtime: str = "apptainer") -> str | None:
    """The apptainer/singularity executable on PATH, preferring ``runtime``'s own name."""
    if runtime not in TOOLS:
        raise SSConfigError(
            f"runtime {runtime!r} does not build .sif images: use apptainer or singularity"
        )
    for name in TOOLS[runtime]:
        path = shutil.which(name)
        if path:
            return path
    return None


def build_sif(
    spec: ContainerSpec,
    out_dir: str | Path,
    *,
    context_dir: str | Path = ".",
    docker_tag: str | None = None,
    runtime: str = "apptainer",
    quiet: bool = False,
    progress: Progress | None = None,
) -> SifResult:
    """Build ``<out_dir>/<name>-<hash>.sif`` unless it exists.

    With ``docker_tag`` (an image of this spec in the local engine) Apptainer
    converts that image; otherwise it builds from ``<name>.def`` written into
    ``out_dir`` with the context staged beside it. Without Apptainer the files
    and a ``build-<name>.sh`` holding the exact command are written, and the
    result says so (``built`` False, ``available`` False).
    """
    start = time.monotonic()
    say: Progress = progress or (lambda line: print(line, file=sys.stderr, flush=True))
    shown = None if quiet else say
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    context = prepare_context(spec, context_dir, shown)
    sif = out / f"{spec.name}-{context.digest[:TAG_LENGTH]}.sif"
    tool = find_tool(runtime)
    name = Path(tool).name if tool else runtime
    if docker_tag:
        command: tuple[str, ...] = (name, "build", sif.name, f"docker-daemon://{docker_tag}")
        write_specs(spec, out, context_dir=context_dir)
    else:
        command = (name, "build", sif.name, f"{spec.name}.def")
        write_specs(spec, out, context_dir=context_dir, stage_context=True, progress=shown)
    if sif.is_file():
        return SifResult(sif, False, command, f"{sif} is up to date", time.monotonic() - start)
    script = out / f"build-{spec.name}.sh"
    script.write_text(
        "#!/bin/sh\n# Build the Apptainer image of this spec (run on a machine with apptainer).\n"
        f'set -e\ncd "$(dirname "$0")"\n{shlex.join(command)}\n'
    )
    script.chmod(0o755)
    if tool is None:
        message = (
            f"{runtime} is not installed on this machine, so {sif.name} was not built. "
            f"The definition and the command are in {out}: run `{script}` "
            f"(or `cd {out} && {shlex.join(command)}`) where {runtime} is available"
        )
        return SifResult(sif, False, command, message, time.monotonic() - start)
    _run(((tool,) + command[1:]), out, shown)
    if not sif.is_file():
        raise BuildError(
            f"{name} build finished but {sif} does not exist", step=shlex.join(command)
        )
    return SifResult(sif, True, command, f"built {sif}", time.monotonic() - start)


def _run(argv: tuple[str, ...], cwd: Path, shown: Progress | None) -> None:
    tail: deque[str] = deque(maxlen=25)
    proc = subprocess.Popen(
        argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        line = line.rstrip()
        tail.append(line)
        if shown and line.startswith(("INFO:", "FATAL:", "ERROR:")):
            shown(line)
    code = proc.wait()
    if code != 0:
        step = next((t for t in reversed(tail) if t.startswith("INFO:")), "")
        raise BuildError(
            f"{shlex.join(argv)} failed with exit status {code}",
            step=step,
            log_tail="\n".join(tail),
        )
