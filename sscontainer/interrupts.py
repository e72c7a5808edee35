"""Ctrl-C stops what the experiment launched, then behaves as it did before."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any


class InterruptGuard:
    """Installs (once) a SIGINT handler that calls ``stop_all`` first."""

    def __init__(self, stop_all: Callable[[], None]) -> None:
        self._stop_all = stop_all
        self._previous: Any = None

    def install(self) -> None:
        # only the main thread may set handlers; elsewhere KeyboardInterrupt handling covers it
        if threading.current_thread() is not threading.main_thread() or self._previous:
            return
        self._previous = signal.getsignal(signal.SIGINT)
        signal.signal(signal.SIGINT, self._on_sigint)

    def _on_sigint(self, signum: int, frame: FrameType | None) -> None:
        self._stop_all()
        if callable(self._previous):
            self._previous(signum, frame)
        else:
            raise KeyboardInterrupt
