"""SmartSim's ``smartsim.error`` names: ``from sscontainer.error import SSUnsupportedError``.

The same names as ``smartsim.error.errors`` (``errors.py`` here), listed once, there."""

from __future__ import annotations

from .errors import *  # noqa: F403
from .errors import __all__ as __all__
