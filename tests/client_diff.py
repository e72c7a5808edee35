"""Differential testing of ``sscontainer.client`` against the real ``smartredis`` 0.6.1.

``same(real_call, our_call)`` runs both and checks they agree: equal results, or
the same exception class (ours is an instance of the class of the same name in
``sscontainer.client.error``, or of the very builtin class SmartRedis raised).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

import numpy as np

from sscontainer.client import error as our_errors
from tests.conftest import require_service

Outcome = tuple[bool, Any]


def require_smartredis() -> Any:
    """The real ``smartredis`` module (fails in CI / skips elsewhere when missing)."""
    require_service(
        importlib.util.find_spec("smartredis") is not None,
        "the real SmartRedis client", "pip install smartredis==0.6.1",
    )
    require_service(
        int(np.__version__.split(".")[0]) < 2,
        "the real SmartRedis client with numpy < 2",
        "install numpy<2 (SmartRedis 0.6.1 requires it: with numpy 2 its binding returns "
        "arrays of zeros)",
    )
    import smartredis

    return smartredis


def outcome(call: Callable[[], Any]) -> Outcome:
    try:
        return True, call()
    except Exception as exc:  # noqa: BLE001 - comparing whatever either client raises
        return False, exc


def equal(a: Any, b: Any) -> bool:
    """Equality that understands numpy arrays, numpy types and nested containers."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)
                and a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b))
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
    return bool(a == b)


def matching_class(real: BaseException, ours: BaseException) -> bool:
    """Whether ``ours`` is raised as SmartRedis raised ``real``."""
    real_class = type(real)
    if real_class.__module__.startswith("smartredis"):
        counterpart = getattr(our_errors, real_class.__name__, None)
        return counterpart is not None and isinstance(ours, counterpart)
    return isinstance(ours, real_class)


def same(real_call: Callable[[], Any], our_call: Callable[[], Any],
         compare: Callable[[Any, Any], bool] = equal) -> Any:
    """Run both; assert equal results or matching exceptions; return our result."""
    real, ours = outcome(real_call), outcome(our_call)
    if real[0] and ours[0]:
        assert compare(real[1], ours[1]), f"results differ: smartredis {real[1]!r}, ours {ours[1]!r}"
        return ours[1]
    assert not real[0] and not ours[0], (
        f"only one raised: smartredis {real[1]!r}, ours {ours[1]!r}"
    )
    assert matching_class(real[1], ours[1]), (
        f"smartredis raised {type(real[1]).__name__}({real[1]}), ours "
        f"{type(ours[1]).__mro__[:3]}({ours[1]})"
    )
    return ours[1]
