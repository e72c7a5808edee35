"""Build Apptainer (or Singularity) images, or say exactly how when the tool is missing.

Two paths to the same image:
- from the rendered definition file with its staged context (``<name>.def`` +
  ``ctx/``): Apptainer's own build, which needs no Docker for the model's layers;
- from a Docker image of the same spec (``docker-daemon://tag``): a conversion that
  reuses the engine's layer cache.

The ``.sif`` is named by the spec's content hash (the rendered recipe and every
copied file), so an unchanged spec is never rebuilt: that check renders and
hashes, and runs no ``apptainer`` at all. The name leaves out the Docker Engine's
ids of the base images, so a SIF copied to a cluster without Docker keeps its
name there; the ids it was built from are kept beside it (``<stem>/bases.json``)
and, where an engine answers, a changed base rebuilds it. Builds write a
temporary file and rename it, under a lock, so a half-written image is never
taken for a finished one.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..errors import BuildError, SSConfigError
from ..specs.model import BaseImage, ContainerSpec
from .context import TAG_LENGTH, BuildContext, prepare_context, write_specs
from .wheels import cache_dir

Progress = Callable[[str], None]
TOOLS = {"apptainer": ("apptainer", "singularity"), "singularity": ("singularity", "apptainer")}
TAIL_LINES = 25
# What Apptainer's FATAL line says -> the part of the definition that failed.
_SECTIONS = (
    (re.compile(r"%post section|running post scriptlet", re.I), "%post"),
    (re.compile(r"copy files from host|%files", re.I), "%files"),
    (re.compile(r"%setup", re.I), "%setup"),
    (re.compile(r"%test", re.I), "%test"),
    (re.compile(r"conveyor failed to get|bootstrap image", re.I), "Bootstrap/From (the base)"),
    (re.compile(r"parsing definition|while parsing|definition file", re.I), "the definition file"),
)


@dataclass(frozen=True)
class SifResult:
    """An Apptainer image, or (``built`` False, ``path`` missing) how to build it."""

    path: Path
    built: bool
    command: tuple[str, ...]  # run in the recipe folder ``path.parent / path.stem``
    message: str
    seconds: float = 0.0

    @property
    def available(self) -> bool:
        return self.path.is_file()


def sif_dir() -> Path:
    """Where built images are kept: ``$SSCONTAINER_CACHE/sif`` (``~/.cache/sscontainer/sif``).

    Shared by every experiment of this user: names are content hashes, so two
    experiments with the same spec share one image.
    """
    return cache_dir() / "sif"


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


def local_base_ids(spec: ContainerSpec) -> dict[str, str]:
    """A stand-in id for every ``localimage`` base: its size and mtime (no full read)."""
    ids: dict[str, str] = {}
    for stage in spec.stages:
        base = stage.base
        if isinstance(base, BaseImage) and base.source == "localimage" and base.sif:
            try:
                st = os.stat(base.sif)
            except OSError:
                continue  # the build says it is missing
            ids[base.sif] = f"sif:{st.st_size}:{st.st_mtime_ns}"
    return ids


def sif_context(
    spec: ContainerSpec, context_dir: str | Path, progress: Progress | None = None
) -> BuildContext:
    """The spec rendered and hashed: what names its ``.sif``."""
    return prepare_context(spec, context_dir, progress, local_base_ids(spec))


def sif_name(context: BuildContext) -> str:
    return f"{context.spec.name}-{context.digest[:TAG_LENGTH]}.sif"


def _bases_file(sif: Path) -> Path:
    return sif.parent / sif.stem / "bases.json"


def stale_bases(sif: Path, base_ids: Mapping[str, str]) -> list[str]:
    """Bases whose engine id differs from the one ``sif`` was built from (none recorded:
    a SIF built elsewhere or copied here is trusted)."""
    try:
        built_from = json.loads(_bases_file(sif).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(built_from, dict):
        return []
    return sorted(ref for ref, ident in base_ids.items() if built_from.get(ref) != ident)


def build_sif(
    spec: ContainerSpec,
    out_dir: str | Path | None = None,
    *,
    context_dir: str | Path = ".",
    docker_tag: str | None = None,
    base_ids: Mapping[str, str] | None = None,
    runtime: str = "apptainer",
    quiet: bool = False,
    progress: Progress | None = None,
) -> SifResult:
    """Build ``<out_dir>/<name>-<hash>.sif`` unless it exists (``out_dir``: :func:`sif_dir`).

    With ``docker_tag`` (the image of this spec in the local engine) Apptainer
    converts that image; otherwise it builds from ``<name>.def`` written into
    ``<out_dir>/<name>-<hash>/`` with the context staged beside it. ``base_ids``
    (base reference -> engine image id) enter the hash, so a rebuilt base
    rebuilds its users. Without Apptainer the files and a ``build-<name>.sh``
    holding the exact command are written, and the result says so (``built``
    False, ``available`` False).
    """
    start = time.monotonic()
    say: Progress = progress or (lambda line: print(line, file=sys.stderr, flush=True))
    shown = None if quiet else say
    out = Path(out_dir) if out_dir is not None else sif_dir()
    out.mkdir(parents=True, exist_ok=True)
    context = sif_context(spec, context_dir, shown)
    sif = out / sif_name(context)
    ids = dict(base_ids or {})
    if sif.is_file():  # the no-op path: rendering and hashing only
        changed = stale_bases(sif, ids)
        if not changed:
            return SifResult(sif, False, (), f"{sif} is up to date", time.monotonic() - start)
        if shown:
            shown(f"{sif.name}: base {', '.join(changed)} changed since it was built: rebuilding")
    tool = find_tool(runtime)
    name = Path(tool).name if tool else runtime
    recipe = out / sif.stem  # the .def and its staged context, kept beside the image
    if docker_tag:
        source = f"docker-daemon://{docker_tag}"
        write_specs(spec, recipe, context_dir=context_dir)
    else:
        source = f"{spec.name}.def"
        write_specs(spec, recipe, context_dir=context_dir, stage_context=True, progress=shown)
    command = (name, "build", f"../{sif.name}", source)
    script = recipe / f"build-{spec.name}.sh"
    script.write_text(
        "#!/bin/sh\n# Build the Apptainer image of this spec (run on a machine with apptainer).\n"
        f'set -e\ncd "$(dirname "$0")"\n{shlex.join(command)}\n'
    )
    script.chmod(0o755)
    if tool is None:
        message = (
            f"{runtime} is not installed on this machine, so {sif.name} was not built. "
            f"The definition and the command are in {recipe}: run `{script}` "
            f"(or `cd {recipe} && {shlex.join(command)}`) where {runtime} is available"
        )
        return SifResult(sif, False, command, message, time.monotonic() - start)
    with _locked(sif):
        if sif.is_file() and not stale_bases(sif, ids):
            # another process built it while we waited
            return SifResult(sif, False, command, f"{sif} is up to date", time.monotonic() - start)
        tmp = sif.with_name(f".{sif.stem}.{os.getpid()}.partial.sif")
        try:
            if shown:
                shown(f"{name}: building {sif.name} from {source} (a few minutes)")
            _run((tool, "build", "--force", str(tmp), source), recipe, shown)
            if not tmp.is_file():
                raise BuildError(
                    f"{name} build finished but wrote no image", step=shlex.join(command)
                )
            _bases_file(sif).write_text(json.dumps(ids, sort_keys=True))
            os.replace(tmp, sif)
        finally:
            tmp.unlink(missing_ok=True)
    seconds = time.monotonic() - start
    if shown:
        shown(f"{name}: built {sif} in {seconds:.0f} s")
    return SifResult(sif, True, command, f"built {sif}", seconds)


@contextmanager
def _locked(sif: Path) -> Iterator[None]:
    """One build of an image at a time (other processes wait, then find it built)."""
    lock = sif.with_name(f".{sif.name}.lock")
    with open(lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def failed_section(lines: list[str]) -> str:
    """The part of the definition a failed build names (``%post``, ``%files`` ...)."""
    for line in reversed(lines):
        if line.startswith(("FATAL:", "ERROR:")):
            for pattern, section in _SECTIONS:
                if pattern.search(line):
                    return section
    step = next((t for t in reversed(lines) if t.startswith("INFO:")), "")
    return step.removeprefix("INFO:").strip() or "unknown (see the log)"


def _run(argv: tuple[str, ...], cwd: Path, shown: Progress | None) -> None:
    """Run a build, streaming Apptainer's own progress lines; BuildError if it fails."""
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    proc = subprocess.Popen(
        argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        errors="replace",
    )
    assert proc.stdout is not None
    try:
        for raw in proc.stdout:
            line = raw.rstrip()
            tail.append(line)
            if shown and line.startswith(("INFO:", "FATAL:", "ERROR:", "WARNING:")):
                shown(f"{Path(argv[0]).name}: {' '.join(line.split())}")
        code = proc.wait()
    except BaseException:  # Ctrl-C: no build left running behind us
        proc.kill()
        proc.wait()
        raise
    if code != 0:
        lines = list(tail)
        section = failed_section(lines)
        raise BuildError(
            f"{Path(argv[0]).name} build failed in {section} (exit status {code}); "
            f"command: {shlex.join(argv)} (in {cwd})",
            step=section,
            log_tail="\n".join(lines),
        )
