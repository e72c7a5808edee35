"""Checks of ML asset settings (names, backends, batching) and a function's script source.

``add_ml_model``/``add_script``/``add_function`` and ``set_ml_backends`` use these, so a
bad setting is an error where it is given, not when the model is stored. Names may not
hold braces: in a cluster a brace would choose the key's hash slot.
"""

from __future__ import annotations

import inspect
import textwrap
from dataclasses import dataclass

from ..errors import InvalidNameError, SSConfigError
from .devices import check_count, check_device

BACKENDS = ("TORCH", "ONNX", "TF", "TFLITE")
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
