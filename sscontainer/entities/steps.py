"""Entity -> Step: the plain data a launcher needs to run a model."""

from __future__ import annotations

import os
from collections.abc import Mapping

from ..launchers.step import Resources, Step
from .model import Model


def key_env(model: Model) -> dict[str, str]:
    """``SSKEYOUT``/``SSKEYIN`` per DESIGN.md's environment contract."""
    env: dict[str, str] = {}
    if model.query_key_prefixing():
        env["SSKEYOUT"] = model.name
    if model.incoming_entities:
        env["SSKEYIN"] = ",".join(e.name for e in model.incoming_entities)
    return env


def model_step(model: Model, db_env: Mapping[str, str] | None = None) -> Step:
    """The step that runs ``model`` in its path, output to ``<name>.out/.err``."""
    rs = model.run_settings
    env = {**dict(db_env or {}), **key_env(model), **rs.env_vars}
    batch = model.batch_settings.format_batch_args() if model.batch_settings else []
    return Step(
        name=model.name,
        entity_type=model.entity_type,
        argv=tuple(rs.launch_argv()),
        cwd=model.path,
        out=os.path.join(model.path, f"{model.name}.out"),
        err=os.path.join(model.path, f"{model.name}.err"),
        env=env,
        resources=Resources(
            nodes=rs.nodes,
            ntasks=rs.tasks,
            tasks_per_node=rs.tasks_per_node,
            cpus_per_task=rs.cpus_per_task,
            walltime=rs.walltime,
        ),
        batch_args=tuple(batch),
    )
