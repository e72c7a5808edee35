"""Python packages sscontainer's images get as wheels built on this host (offline inside).

- **SmartRedis apps run unchanged**: the runtime base holds the real ``smartredis`` 0.6.1
  client and ``hiredis`` (sscontainer's client parses replies with it; Debian's
  python3-hiredis is too old), installed without dependencies: their one dependency,
  numpy, is the image's own (Debian's 1.24; SmartRedis 0.6.1 needs numpy < 2).
- **Backends beside a database**: a database's shards run inference workers, so its image
  holds the framework of every ML backend the experiment's models use (``add_ml_model``,
  ``add_script``) or its orchestrator asks for (``set_ml_backends``). They are pinned at
  the versions installed here, numpy too, so the image runs what this host runs; their
  wheels come from this host's pip (its index, or the wheels on its disk).
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import metadata

from ..errors import SSConfigError

SMARTREDIS = "smartredis==0.6.1"
# a fixed version, not this host's: the checked-in images/base recipe must not depend on it
HIREDIS = "hiredis==3.5.0"
# backend -> the distributions that provide its framework, in order of preference
BACKEND_DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    "TORCH": ("torch",),
    "ONNX": ("onnxruntime",),
    "TF": ("tensorflow-cpu", "tensorflow"),
    "TFLITE": ("ai-edge-litert", "tflite-runtime", "tensorflow-cpu", "tensorflow"),
}
EXTRAS = {"TORCH": "torch", "ONNX": "onnx", "TF": "tf", "TFLITE": "tflite"}


def _installed(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def pinned(name: str) -> str:
    """``name==<the version installed here>``; SSConfigError when it is not installed."""
    version = _installed(name)
    if version is None:
        raise SSConfigError(
            f"{name} is not installed in this Python environment, so its wheel cannot go "
            f"into the image: pip install {name}"
        )
    return f"{name}=={version}"


def client_requirements() -> tuple[str, ...]:
    """The real SmartRedis client and hiredis for the base image."""
    return (SMARTREDIS, HIREDIS)


def backend_requirements(backends: Iterable[str]) -> tuple[str, ...]:
    """Pinned requirements for ``backends`` (numpy included); () for none."""
    chosen = sorted({b.upper() for b in backends})
    if not chosen:
        return ()
    reqs: list[str] = []
    for backend in chosen:
        if backend not in BACKEND_DISTRIBUTIONS:
            raise SSConfigError(
                f"ML backend {backend!r} is not known: use one of "
                + ", ".join(BACKEND_DISTRIBUTIONS)
            )
        found = next((d for d in BACKEND_DISTRIBUTIONS[backend] if _installed(d)), None)
        if found is None:
            raise SSConfigError(
                f"the database image needs the {backend} backend, which is not installed "
                f"here (its wheels go into the image from this host): pip install "
                f"'sscontainer[{EXTRAS[backend]}]'"
            )
        req = pinned(found)
        if req not in reqs:
            reqs.append(req)
    return (*reqs, pinned("numpy"))
