"""Shared test helpers: service checks that fail loudly in CI and skip elsewhere."""

from __future__ import annotations

import os

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_service(available: bool, what: str, how: str) -> None:
    """Skip (locally) or fail (in CI, where `.ci/run` must have started it)."""
    if available:
        return
    message = f"{what} is not available: {how}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: .ci/run should have provided it)")
    pytest.skip(message)
