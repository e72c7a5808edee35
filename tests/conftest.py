"""Shared test helpers: service checks that fail loudly in CI and skip elsewhere, and
environment variables set for one step only."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

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


@contextmanager
def scoped_environ(settings: Mapping[str, str]) -> Iterator[None]:
    """``settings`` in ``os.environ`` inside the block; afterwards each variable is back as it
    was (removed if it was unset), so nothing started later by the test process sees them."""
    saved = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
