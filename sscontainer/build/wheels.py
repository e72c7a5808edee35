"""Wheels built on the host for offline installs inside images.

Images install Python packages with ``pip install --no-index`` from wheels
built here: no index (and no TLS-intercepting proxy) is needed inside a build,
and the same wheels serve Docker and Apptainer. Results are cached under
``$SSCONTAINER_CACHE`` (default ``~/.cache/sscontainer``) keyed by their
inputs, so a rebuild with unchanged inputs costs a hash, not a pip run.

Wheels are built for the host's Python: the image's Python must match (3.11 on
sscontainer's Debian bookworm base).
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import sscontainer

from ..errors import BuildError, SSConfigError
from ..specs.model import Wheelhouse

Progress = Callable[[str], None]
WHEEL_ENV = "SSCONTAINER_WHEEL"  # a prebuilt sscontainer wheel (installs without a source tree)
_COMPLETE = ".complete"


def cache_dir() -> Path:
    env = os.environ.get("SSCONTAINER_CACHE")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "sscontainer"


def source_root() -> Path | None:
    """The source tree sscontainer runs from (editable install), if any."""
    root = Path(sscontainer.__file__).resolve().parents[1]
    pyproject = root / "pyproject.toml"
    if pyproject.is_file() and 'name = "sscontainer"' in pyproject.read_text():
        return root
    return None


def _source_files(root: Path) -> list[Path]:
    # hatch_build.py compiles the database module; the .so it writes is an output, not a source
    files = [root / "pyproject.toml", root / "README.md", root / "hatch_build.py"]
    for top in ("sscontainer", "templates"):
        for dirpath, dirnames, filenames in os.walk(root / top):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            files += [Path(dirpath) / f for f in sorted(filenames)
                      if not f.endswith((".pyc", ".so"))]
    return [f for f in files if f.is_file()]


def source_digest(root: Path) -> str:
    """Hash of everything the sscontainer wheel is built from."""
    digest = hashlib.sha256()
    for path in _source_files(root):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _run_pip(args: Sequence[str], what: str) -> None:
    argv = [sys.executable, "-m", "pip", *args]
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-20:])
        raise BuildError(
            f"{what} failed (exit {proc.returncode}): check the requirement names and that the "
            "package index (or a local wheel) is reachable from this machine",
            step=" ".join(argv),
            log_tail=tail,
        )


def _cached(key: str, fill: Callable[[Path], None]) -> Path:
    """A cache directory for ``key``, filled once by ``fill``.

    Filled in a temporary directory, renamed into place, then marked complete by
    a sibling file (outside the directory: its contents go into images as they are).
    """
    final = cache_dir() / "wheels" / key
    marker = final.parent / (key + _COMPLETE)
    if marker.exists() and final.is_dir():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=final.parent))
    try:
        fill(tmp)
        if final.exists():  # left by an interrupted attempt
            shutil.rmtree(final, ignore_errors=True)
        try:
            tmp.rename(final)
        except OSError:
            if not final.is_dir():  # another process may have just won the race
                raise
        marker.touch()
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return final


def sscontainer_wheel(progress: Progress | None = None) -> Path:
    """A directory holding one wheel of the running sscontainer (``pip wheel --no-deps``)."""
    prebuilt = os.environ.get(WHEEL_ENV)
    if prebuilt:
        path = Path(prebuilt)
        if not path.is_file() or not path.name.startswith("sscontainer-"):
            raise SSConfigError(f"{WHEEL_ENV}={prebuilt!r} is not an sscontainer wheel file")
        key = "sscontainer-" + hashlib.sha256(path.read_bytes()).hexdigest()[:16]

        def copy(tmp: Path) -> None:
            shutil.copy2(path, tmp / path.name)

        return _cached(key, copy)
    root = source_root()
    if root is None:
        raise SSConfigError(
            "sscontainer is not installed from a source tree, so its wheel cannot be built: "
            f"set {WHEEL_ENV}=/path/to/sscontainer-*.whl or install with `pip install -e`"
        )
    key = "sscontainer-" + source_digest(root)[:16]

    def fill(tmp: Path) -> None:
        if progress:
            progress(f"building the sscontainer wheel from {root}")
        _run_pip(["wheel", "--no-deps", "--disable-pip-version-check", "-q", "-w", str(tmp),
                  str(root)], "building the sscontainer wheel")

    return _cached(key, fill)


def wheelhouse_dir(house: Wheelhouse, progress: Progress | None = None) -> Path:
    """A directory with every wheel ``house`` needs (requirements with their dependencies)."""
    if house.sscontainer:
        if house.requirements or house.wheels:
            raise SSConfigError("the sscontainer wheel is kept apart from other wheels")
        return sscontainer_wheel(progress)
    digest = hashlib.sha256()
    digest.update(f"{sys.version_info[:2]} {platform.machine()} {sys.platform}\n".encode())
    for req in sorted(house.requirements):
        digest.update(req.encode() + b"\n")
    if house.no_deps:
        digest.update(b"--no-deps\n")
    for wheel in sorted(house.wheels):
        digest.update(Path(wheel).name.encode() + hashlib.sha256(Path(wheel).read_bytes()).digest())
    key = f"house-{house.key}-{digest.hexdigest()[:16]}"

    def fill(tmp: Path) -> None:
        for wheel in house.wheels:
            shutil.copy2(wheel, tmp / Path(wheel).name)
        if house.requirements:
            if progress:
                progress("building wheels for " + " ".join(house.requirements))
            _run_pip(["wheel", "--disable-pip-version-check", "-q", "-w", str(tmp),
                      "--find-links", str(tmp), *(["--no-deps"] if house.no_deps else []),
                      *house.requirements],
                     "building wheels for " + " ".join(house.requirements))

    return _cached(key, fill)
