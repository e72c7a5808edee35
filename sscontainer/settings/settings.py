"""``smartsim.settings.settings``: the settings factories, under SmartSim's module path."""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import SSUnsupportedError
from .batch import BatchSettings, SbatchSettings
from .run import ArgValue, create_run_settings


def create_batch_settings(
    launcher: str,
    nodes: int | None = None,
    time: str = "",
    queue: str | None = None,
    account: str | None = None,
    batch_args: Mapping[str, ArgValue] | None = None,
    **kwargs: object,
) -> BatchSettings:
    """Batch settings for ``launcher`` (only Slurm has a batch system here)."""
    if launcher != "slurm":
        raise SSUnsupportedError(
            f"batch settings need a workload manager; the {launcher!r} launcher has none: "
            "use launcher='slurm'"
        )
    return SbatchSettings(
        nodes=nodes, time=time, account=account, batch_args=batch_args, queue=queue, **kwargs
    )


__all__ = ["create_batch_settings", "create_run_settings"]
