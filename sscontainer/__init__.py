"""sscontainer: SmartSim-style HPC/AI workflows, deployed in containers."""

from __future__ import annotations

__version__ = "0.1.0"
