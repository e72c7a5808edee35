"""``LogContext``: a name to log under, for code that has no Client or Dataset."""

from __future__ import annotations

from .srobject import SRObject


class LogContext(SRObject):
    """``LogContext("solver").log_data(LLInfo, "step 3")`` writes ``solver@...:step 3``."""

    def __init__(self, context: str) -> None:
        super().__init__(context)
