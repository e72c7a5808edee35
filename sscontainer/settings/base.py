"""``smartsim.settings.base``: the base settings classes, under SmartSim's module path."""

from __future__ import annotations

from .batch import BatchSettings
from .run import RunSettings

SettingsBase = RunSettings

__all__ = ["BatchSettings", "RunSettings", "SettingsBase"]
