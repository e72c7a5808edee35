"""Build contexts: the files a spec copies, under their context names, and the image tag.

Tags are content-addressed: a hash of the rendered Dockerfile and of every
context file (names, modes, bytes). An unchanged spec with unchanged files has
an unchanged tag, so a build finds its image and skips the engine.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import stat
import tarfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ..errors import MissingFileError
from ..specs.crosscheck import crosscheck_texts
from ..specs.model import ContainerSpec, Wheelhouse
from ..specs.render import context_name, render_apptainer, render_dockerfile
from .wheels import wheelhouse_dir

Progress = Callable[[str], None]
TAG_LENGTH = 16


@dataclass(frozen=True)
class BuildContext:
    """A spec made ready to build: its Dockerfile, its files and its tag."""

    spec: ContainerSpec
    dockerfile: str
    files: dict[str, Path]  # context name -> host file or directory
    digest: str

    @property
    def tag(self) -> str:
        return image_tag(self.spec, self.digest)


def image_tag(spec: ContainerSpec, digest: str) -> str:
    return f"sscontainer-{spec.name}:{digest[:TAG_LENGTH]}"


def resolve_sources(
    spec: ContainerSpec, context_dir: str | Path, progress: Progress | None = None
) -> dict[str, Path]:
    """Host path of every local copy (wheelhouses are built or taken from the cache)."""
    files: dict[str, Path] = {}
    for copy in spec.local_copies():
        if isinstance(copy.source, Wheelhouse):
            path = wheelhouse_dir(copy.source, progress)
        else:
            path = (Path(context_dir) / copy.source).resolve()
            if not path.exists():
                raise MissingFileError(
                    f"spec {spec.name}: {copy.source!r} (copied to {copy.dest}) does not exist; "
                    f"relative paths are resolved against {Path(context_dir).resolve()}"
                )
        files[context_name(copy)] = path
    return files


def _walk(path: Path) -> Iterator[tuple[str, Path]]:
    """(relative name, path) of ``path`` and everything under it, sorted, links not followed."""
    yield "", path
    if path.is_dir():
        for dirpath, dirnames, filenames in os.walk(path):
            dirnames.sort()
            base = Path(dirpath)
            for name in sorted(dirnames + filenames):
                full = base / name
                yield str(full.relative_to(path)), full


def tree_digest(path: Path) -> str:
    """Names, kinds, exec bits and bytes of a file or directory tree."""
    digest = hashlib.sha256()
    for rel, full in _walk(path):
        st = full.lstat() if rel else full.stat()  # a top-level link is copied as its target
        digest.update(rel.encode() + b"\0")
        if stat.S_ISLNK(st.st_mode):
            digest.update(b"L" + os.readlink(full).encode())
        elif stat.S_ISDIR(st.st_mode):
            digest.update(b"D")
        else:
            digest.update(b"F" + (b"x" if st.st_mode & 0o111 else b"-"))
            with full.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(chunk)
        digest.update(b"\n")
    return digest.hexdigest()


def prepare_context(
    spec: ContainerSpec,
    context_dir: str | Path,
    progress: Progress | None = None,
    base_ids: Mapping[str, str] | None = None,
) -> BuildContext:
    """Render, resolve and hash. ``base_ids`` (base image reference -> image id, as
    the engine knows them) enter the hash, so rebuilding a base rebuilds its users."""
    dockerfile = render_dockerfile(spec)
    files = resolve_sources(spec, context_dir, progress)
    digest = hashlib.sha256(dockerfile.encode())
    for ref in sorted(base_ids or {}):
        digest.update(f"\nbase {ref} {(base_ids or {})[ref]}".encode())
    for name in sorted(files):
        digest.update(f"\n{name}\n{tree_digest(files[name])}".encode())
    return BuildContext(spec, dockerfile, files, digest.hexdigest())


def _normalise(info: tarfile.TarInfo) -> tarfile.TarInfo:
    # Owners and times of host files must not leak into (or vary) the image.
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mtime = 0
    return info


def write_context_tar(context: BuildContext, fileobj: IO[bytes]) -> None:
    """The build context as an uncompressed tar stream (Dockerfile + files)."""
    with tarfile.open(fileobj=fileobj, mode="w") as tar:
        data = context.dockerfile.encode()
        info = _normalise(tarfile.TarInfo("Dockerfile"))
        info.size = len(data)
        info.mode = 0o644
        tar.addfile(info, io.BytesIO(data))
        for name in sorted(context.files):
            path = context.files[name]
            # Resolve a top-level link (COPY of a link copies the link itself).
            tar.add(str(path.resolve()), arcname=name, recursive=True, filter=_normalise)


@dataclass(frozen=True)
class SpecFiles:
    """What :func:`write_specs` wrote."""

    dockerfile: Path
    definition: Path
    context: Path | None  # the staged ``ctx/`` directory, when staged
    disagreements: tuple[str, ...] = ()  # spython cross-check of the two files (empty: agree)


def write_specs(
    spec: ContainerSpec,
    out_dir: str | Path,
    *,
    context_dir: str | Path = ".",
    stage_context: bool = False,
    progress: Progress | None = None,
) -> SpecFiles:
    """Write ``Dockerfile`` and ``<name>.def`` into ``out_dir`` (and cross-check them).

    With ``stage_context`` the copied files (and host-built wheels) are laid out
    under ``out_dir/ctx`` too, so ``docker build out_dir`` and
    ``cd out_dir && apptainer build <name>.sif <name>.def`` work as they are.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    dockerfile = out / "Dockerfile"
    definition = out / f"{spec.name}.def"
    docker_text, apptainer_text = render_dockerfile(spec), render_apptainer(spec)
    dockerfile.write_text(docker_text)
    definition.write_text(apptainer_text)
    staged: Path | None = None
    if stage_context:
        staged = out / "ctx"
        if staged.exists():
            shutil.rmtree(staged)
        for name, path in resolve_sources(spec, context_dir, progress).items():
            target = out / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if path.is_dir():
                shutil.copytree(path, target, symlinks=True)
            else:
                shutil.copy2(path, target)
        staged.mkdir(exist_ok=True)
    problems = tuple(crosscheck_texts(docker_text, apptainer_text))
    return SpecFiles(dockerfile, definition, staged, problems)
