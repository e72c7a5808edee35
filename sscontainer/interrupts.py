"""Ctrl-C, SIGTERM and SIGHUP stop what the experiment launched, then end the driver.

A batch system ends a job with SIGTERM and a closed terminal sends SIGHUP: both are
handled like Ctrl-C. The handler stops every job (databases and ML workers too) and
the processes they left behind, then hands over to the handler that was there
before, or, where that was the default, raises ``KeyboardInterrupt`` (SIGINT) or
:class:`DriverTerminated` (SIGTERM, SIGHUP: a ``SystemExit`` with status 128+N, what
the signal itself would have given). A signal that was ignored (``nohup``) stays
ignored: the driver keeps running, and so do its jobs.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class DriverTerminated(SystemExit):
    """The driver got SIGTERM or SIGHUP; what it launched was stopped first."""

    def __init__(self, signum: int) -> None:
        super().__init__(128 + signum)
        self.signum = signum
        self.signame = signal.Signals(signum).name


class InterruptGuard:
    """Installs (once) handlers for SIGINT, SIGTERM and SIGHUP that call ``stop_all`` first."""

    def __init__(self, stop_all: Callable[[], None]) -> None:
        self._stop_all = stop_all
        self._previous: dict[int, Any] = {}
        self._stopping = False

    def install(self) -> None:
        # only the main thread may set handlers; elsewhere KeyboardInterrupt handling covers it
        if threading.current_thread() is not threading.main_thread() or self._previous:
            return
        for signum in HANDLED:
            previous = signal.getsignal(signum)
            if previous is signal.SIG_IGN:
                continue  # nohup and friends: the user asked to outlive this signal
            self._previous[signum] = previous
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self._stopping:  # a second Ctrl-C while stopping must not cut the stop short
            return
        self._stopping = True
        try:
            self._stop_all()
        finally:
            self._stopping = False
        previous = self._previous.get(signum)
        if callable(previous) and previous is not signal.default_int_handler:
            previous(signum, frame)
        elif signum == signal.SIGINT:
            raise KeyboardInterrupt
        else:
            raise DriverTerminated(signum)
