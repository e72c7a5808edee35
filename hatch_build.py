"""Package build hook: compiles the RedisAI-compatible module (sscontainer/db/redisai/src).

Hatchling runs it for wheels and editable installs (``pip install .`` / ``pip install
-e .``). The shared object is written beside the package's Python files
(``sscontainer/db/redisai/sscai.so``, git-ignored) and shipped in the wheel as an
artifact, so every server sscontainer starts can ``loadmodule`` it. The module needs
no server header: only a C11 compiler (``$CC``, else cc, gcc or clang).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sysconfig
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

MODULE_DIR = Path("sscontainer") / "db" / "redisai"
SOURCE_DIR = MODULE_DIR / "src"
MODULE_FILE = MODULE_DIR / "sscai.so"
CFLAGS = [
    "-std=c11", "-D_POSIX_C_SOURCE=200809L", "-O2", "-fPIC", "-shared", "-fvisibility=hidden",
    "-Wall", "-Wextra", "-Werror",
]


class ModuleBuildError(RuntimeError):
    """The module could not be compiled (no compiler, or a compile error)."""


def find_compiler() -> str:
    """``$CC`` when set, else the first of cc, gcc, clang on PATH."""
    from_env = os.environ.get("CC")
    names = (from_env,) if from_env else ("cc", "gcc", "clang")
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    where = f"$CC={from_env!r} is not an executable" if from_env else "no cc, gcc or clang on PATH"
    raise ModuleBuildError(
        "building sscontainer needs a C compiler for its RedisAI-compatible database module "
        f"({SOURCE_DIR}) and {where}: install one (apt-get install gcc) or point $CC at one"
    )


def compile_module(root: Path) -> Path:
    """Compile every ``src/*.c`` into ``sscai.so`` under ``root``; returns its path."""
    sources = sorted(str(p) for p in (root / SOURCE_DIR).glob("*.c"))
    if not sources:
        raise ModuleBuildError(f"no C sources under {root / SOURCE_DIR}")
    target = root / MODULE_FILE
    tmp = target.with_name(f".{target.name}.{os.getpid()}")
    argv = [find_compiler(), *CFLAGS, *sources, "-o", str(tmp)]
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise ModuleBuildError(
            f"compiling the database module failed ({' '.join(argv)}):\n{proc.stderr.strip()}"
        )
    tmp.chmod(0o755)  # servers refuse to load a module without an execute bit
    tmp.replace(target)
    return target


class CustomBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return  # the sdist ships the C sources, not the binary
        compile_module(Path(self.root))
        build_data["artifacts"].append(MODULE_FILE.as_posix())
        build_data["pure_python"] = False
        # the module does not use Python's ABI: any Python 3 on this platform
        platform = sysconfig.get_platform().replace("-", "_").replace(".", "_")
        build_data["tag"] = f"py3-none-{platform}"
