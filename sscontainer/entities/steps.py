"""Entity -> Step: the plain data a launcher needs to run a model."""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Mapping

from ..db.colocated_config import ColocatedConfig
from ..launchers.step import Resources, Step
from .model import Model

SUPERVISOR_MODULE = "sscontainer.db.colocated"


def colocated_config_path(model: Model) -> str:
    return os.path.join(model.path, f"{model.name}.colocated.json")


def colocated_config(model: Model) -> ColocatedConfig | None:
    """The model's colocated config as launched: its server log beside its outputs."""
    if model.colocated is None:
        return None
    log = os.path.join(model.path, f"{model.name}.db.log")
    return dataclasses.replace(model.colocated, log_path=model.colocated.log_path or log)


def write_colocated_config(model: Model) -> None:
    config = colocated_config(model)
    if config is not None:
        config.save(colocated_config_path(model))


def _wrapper(model: Model, python: str) -> list[str]:
    if model.colocated is None:
        return []
    return [python, "-m", SUPERVISOR_MODULE, "--config", colocated_config_path(model), "--"]


def key_env(model: Model) -> dict[str, str]:
    """``SSKEYOUT``/``SSKEYIN`` per DESIGN.md's environment contract."""
    env: dict[str, str] = {}
    if model.query_key_prefixing():
        env["SSKEYOUT"] = model.name
    if model.incoming_entities:
        env["SSKEYIN"] = ",".join(e.name for e in model.incoming_entities)
    return env


def model_step(
    model: Model, db_env: Mapping[str, str] | None = None, python: str = sys.executable
) -> Step:
    """The step that runs ``model`` in its path, output to ``<name>.out/.err``.

    A colocated model runs under the database supervisor, which sets ``SSDB``
    to its own server for the application.
    """
    rs = model.run_settings
    env = {**dict(db_env or {}), **key_env(model), **rs.env_vars}
    batch = model.batch_settings.format_batch_args() if model.batch_settings else []
    return Step(
        name=model.name,
        entity_type=model.entity_type,
        argv=tuple(rs.launch_argv(_wrapper(model, python))),
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
