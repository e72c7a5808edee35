"""How a model or script is stored: one hash per key, its settings beside its bytes.

Every ``set_model``/``set_script`` writes all fields (so no stale field survives a
replacement) and a ``version`` (a digest of the bytes and settings): workers reload a
model only when it changes.
Model and script names may not contain braces, so a key's hash slot is the whole
key and the worker beside it is found by that slot.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import InvalidNameError, SSConfigError
from .devices import check_count, check_device

BACKENDS = ("TORCH", "ONNX", "TF", "TFLITE")
KIND_MODEL = "model"
KIND_SCRIPT = "script"
META_FIELDS = (
    "kind", "version", "backend", "device", "batch_size", "min_batch_size",
    "min_batch_timeout", "inputs", "outputs",
)
BLOB_FIELD = "blob"
SOURCE_FIELD = "source"


MAX_NAME_LENGTH = 1024


def check_name(name: object, what: str = "name") -> str:
    """``name`` when it can be (part of) a key: printable, no spaces, not empty, bounded."""
    if type(name) is not str:
        raise InvalidNameError(f"{what} must be a string, got {type(name).__name__} {name!r}")
    if not name:
        raise InvalidNameError(f"{what} is empty: give a non-empty name")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidNameError(
            f"{what} is {len(name)} characters long: the limit is {MAX_NAME_LENGTH}"
        )
    if not name.isprintable() or " " in name:
        raise InvalidNameError(
            f"{what} {name!r} contains whitespace or control characters: use printable "
            "characters without spaces"
        )
    return name


def check_asset_name(name: object, what: str = "model/script name") -> str:
    text = check_name(name, what)
    if "{" in text or "}" in text:
        raise InvalidNameError(f"{what} {text!r} may not contain '{{' or '}}'")
    return text


def check_backend(backend: object) -> str:
    if not isinstance(backend, str) or backend.strip().upper() not in BACKENDS:
        raise SSConfigError(f"backend {backend!r} is not known: use one of {', '.join(BACKENDS)}")
    return backend.strip().upper()


def check_names(value: object, what: str) -> list[str]:
    """``None`` -> ``[]``, ``"x"`` -> ``["x"]``, a list of non-empty strings as is."""
    if value is None:
        return []
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not all(isinstance(i, str) and i for i in items):
        raise SSConfigError(f"{what} must be a name or a list of names, got {value!r}")
    return list(items)


def _version(payload: bytes, settings: str) -> str:
    """A digest of what was stored: storing the same model again keeps workers' copies."""
    return hashlib.sha1(payload + b"\0" + settings.encode(), usedforsecurity=False).hexdigest()


def function_source(function: object) -> str:
    """A Python function as a script: its source, dedented (as SmartSim, via inspect)."""
    if not callable(function):
        raise SSConfigError(f"function must be a Python function, got {function!r}")
    try:
        return textwrap.dedent(inspect.getsource(function))  # type: ignore[arg-type,unused-ignore]
    except (OSError, TypeError) as exc:
        raise SSConfigError(f"the source of {function!r} is not available: {exc}") from exc


@dataclass(frozen=True)
class ModelSettings:
    """What ``set_model`` records beside the model's bytes."""

    backend: str
    device: str = "CPU"
    batch_size: int = 0
    min_batch_size: int = 0
    min_batch_timeout: int = 0
    tag: str = ""
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "backend", check_backend(self.backend))
        object.__setattr__(self, "device", check_device(self.device))
        check_count(self.batch_size, "batch_size")
        check_count(self.min_batch_size, "min_batch_size")
        check_count(self.min_batch_timeout, "min_batch_timeout")
        if self.min_batch_size and self.min_batch_size > self.batch_size:
            raise SSConfigError(
                f"min_batch_size {self.min_batch_size} is larger than batch_size "
                f"{self.batch_size}: set batch_size >= min_batch_size"
            )
        if self.min_batch_timeout and not self.min_batch_size:
            raise SSConfigError("min_batch_timeout needs a min_batch_size to wait for")
        if not isinstance(self.tag, str):
            raise SSConfigError(f"tag must be a string, got {self.tag!r}")
        object.__setattr__(self, "inputs", tuple(check_names(self.inputs, "inputs")))
        object.__setattr__(self, "outputs", tuple(check_names(self.outputs, "outputs")))
        if self.backend == "TF" and not (self.inputs and self.outputs):
            raise SSConfigError(
                "a TF model needs the names of its input and output nodes: pass inputs=[...] "
                "and outputs=[...]"
            )

    def fields(self, blob: bytes) -> dict[str, str | bytes]:
        return {
            "kind": KIND_MODEL, "version": _version(blob, repr(self)), "backend": self.backend,
            "device": self.device, "batch_size": str(self.batch_size),
            "min_batch_size": str(self.min_batch_size),
            "min_batch_timeout": str(self.min_batch_timeout), "tag": self.tag,
            "inputs": json.dumps(list(self.inputs)), "outputs": json.dumps(list(self.outputs)),
            BLOB_FIELD: blob, SOURCE_FIELD: "",
        }


def script_fields(source: str, device: str) -> dict[str, str | bytes]:
    if not isinstance(source, str) or not source.strip():
        raise SSConfigError("a script must be non-empty TorchScript source text")
    device = check_device(device)
    return {
        "kind": KIND_SCRIPT, "version": _version(source.encode(), device), "backend": "TORCH",
        "device": device, "batch_size": "0", "min_batch_size": "0",
        "min_batch_timeout": "0", "tag": "", "inputs": "[]", "outputs": "[]",
        BLOB_FIELD: b"", SOURCE_FIELD: source,
    }


@dataclass(frozen=True)
class StoredMeta:
    """The settings of a stored model or script, as a worker reads them."""

    kind: str
    version: str
    backend: str
    device: str
    batch_size: int
    min_batch_size: int
    min_batch_timeout: int
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]

    @classmethod
    def parse(cls, values: Sequence[bytes | None]) -> StoredMeta | None:
        """From ``HMGET key *META_FIELDS``; None when the key holds no model or script."""
        if values[0] is None or values[1] is None:
            return None
        text = [v.decode() if v is not None else "" for v in values]
        return cls(
            kind=text[0], version=text[1], backend=text[2], device=text[3],
            batch_size=int(text[4] or 0), min_batch_size=int(text[5] or 0),
            min_batch_timeout=int(text[6] or 0),
            inputs=tuple(json.loads(text[7] or "[]")), outputs=tuple(json.loads(text[8] or "[]")),
        )

    @property
    def is_script(self) -> bool:
        return self.kind == KIND_SCRIPT
