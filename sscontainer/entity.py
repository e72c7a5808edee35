"""``smartsim.entity``: the entity classes under SmartSim's module path."""

from __future__ import annotations

from .entities.ensemble import Ensemble
from .entities.model import Model, SSEntity

SmartSimEntity = SSEntity  # SmartSim's name for the base of launchable entities
EntityList = Ensemble  # SmartSim's base of entity groups; Ensemble is the one used

__all__ = ["Ensemble", "EntityList", "Model", "SmartSimEntity"]
