"""``smartsim.database``: ``from sscontainer.database import Orchestrator``."""

from __future__ import annotations

from .entities.orchestrator import Orchestrator

__all__ = ["Orchestrator"]
