"""Small TorchScript models whose behaviour the run tests observe (built in memory).

- :func:`batch_reporter`: every row of its output holds the batch size the model ran
  with, so a caller sees whether its job was batched with others.
- :func:`slow_model`: ``forward(x, n)`` repeats a matrix product ``n`` times: a run that
  lasts long enough to kill its worker, or disconnect, while it runs.
- :func:`require_optional`, :func:`channels_last`: the heavy (TF/TFLITE) tests' optional
  extras, and their 28x28x1 inputs.
- :func:`app_result`, :func:`expected_scores`: what an experiment's ML app printed, and the
  scores onnxruntime gives in this process for the same input.
"""

from __future__ import annotations

import importlib.util
import io
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sscontainer.ml.sample_models import IMAGE
from tests.conftest import require_service


def require_backend(module: str, extra: str) -> None:
    require_service(importlib.util.find_spec(module) is not None, module,
                    f"pip install 'sscontainer[{extra}]'")


def require_optional(module: str, extra: str) -> None:
    """Skip (even under CI) where an optional heavy extra is not installed."""
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed: pip install 'sscontainer[{extra}]'")


def channels_last(rows: int, seed: int) -> np.ndarray[Any, Any]:
    return np.random.default_rng(seed).random((rows, 28, 28, 1), dtype=np.float32)


def _save(module: Any) -> bytes:
    import torch

    buffer = io.BytesIO()
    with warnings.catch_warnings():  # TorchScript is deprecated upstream; RedisAI runs it
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.save(torch.jit.script(module), buffer)
    return buffer.getvalue()


def batch_reporter() -> bytes:
    require_backend("torch", "torch")
    import torch

    class BatchReporter(torch.nn.Module):  # type: ignore[misc]
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            rows = x.shape[0]
            return torch.full((rows, 1), rows, dtype=torch.int64)

    return _save(BatchReporter())


def slow_model() -> bytes:
    require_backend("torch", "torch")
    import torch

    class Slow(torch.nn.Module):  # type: ignore[misc]
        def forward(self, x: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
            w = torch.eye(x.shape[1], dtype=x.dtype) * 0.5
            for _ in range(int(n.item())):
                x = torch.tanh(x @ w + 0.1)
            return x

    return _save(Slow())


def app_result(model) -> dict:  # type: ignore[no-untyped-def]
    out = Path(model.path, f"{model.name}.out").read_text()
    err = Path(model.path, f"{model.name}.err").read_text()
    assert out.strip(), err
    return json.loads(out.strip().splitlines()[-1])


def expected_scores(blob: bytes) -> np.ndarray:  # type: ignore[type-arg]
    import onnxruntime

    x = np.random.default_rng(0).random((2, *IMAGE), dtype=np.float32)
    session = onnxruntime.InferenceSession(blob, providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})[0]  # type: ignore[no-any-return]
