"""Gather what ``Experiment.preview`` shows: entities, their steps and batch scripts.

Nothing is built or started: a model that would run in an image built at start
shows where that image will be, and running databases' secrets are masked.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from .entities.ensemble import Ensemble
from .entities.model import Model
from .entities.orchestrator import Orchestrator
from .entities.steps import HOST, Placement, batched, model_step
from .launchers.step import Step
from .preview import PreviewInput, check_options, render, write_preview
from .settings.containers import ContainerSettings

if TYPE_CHECKING:
    from .experiment import Experiment

HIDDEN = "<hidden>"


def _placement(exp: Experiment, model: Model) -> Placement:
    """Where ``model`` would run, without building its image."""
    container = model.run_settings.container
    if exp.launcher != "slurm" or not isinstance(container, ContainerSettings):
        return HOST
    image = container.image or os.path.join(
        exp.exp_path, ".sscontainer", "images", f"{model.name}.sif (built at start)"
    )
    return Placement(image=image, runtime=container.runtime)


def _server() -> str:
    try:
        from .db.binary import find_server_binary

        return find_server_binary()
    except Exception:  # noqa: BLE001 - a preview never fails on a missing binary
        return "redis-server (not found here)"


def backend_name(server: str) -> str:
    """``valkey`` for ``/path/valkey-server``: the database type SmartSim's preview shows."""
    return os.path.basename(server).split("-", 1)[0] or "redis"


def preview_experiment(
    exp: Experiment,
    entities: Sequence[Model | Ensemble | Orchestrator],
    verbosity_level: str,
    output_format: str,
    output_filename: str | None,
    after: Mapping[str, Sequence[str]],
) -> str:
    verbosity = check_options(verbosity_level, output_format)
    orchestrators = [e for e in entities if isinstance(e, Orchestrator)]
    running = exp._databases.running()
    db_env = {k: "<set at start>" for o in orchestrators for k in o.client_env()}
    db_env.update(exp._databases.env())
    db_env = {k: HIDDEN if k.startswith("SSDB_PASSWORD") else v for k, v in db_env.items()}

    def step_of(model: Model) -> Step:
        step = model_step(model, db_env, _placement(exp, model))
        env = {k: HIDDEN if k.startswith("SSDB_PASSWORD") else v for k, v in step.env.items()}
        return dataclasses.replace(step, env=env)

    def batch_script(model: Model, ensemble: Ensemble | None) -> str:
        if exp.launcher != "slurm":
            return ""
        from .launchers.slurm import render_batch_script

        step = step_of(model)
        settings = ensemble.batch_settings if ensemble is not None else None
        if settings is not None:  # members of a batched ensemble share its request
            step = batched(step, settings)
        runtime = step.runtime or "apptainer"
        return render_batch_script(step, runtime)

    data = PreviewInput(
        name=exp.name,
        exp_path=exp.exp_path,
        launcher=exp.launcher,
        orchestrators=orchestrators,
        models=[e for e in entities if isinstance(e, Model)],
        ensembles=[e for e in entities if isinstance(e, Ensemble)],
        active=running,
        after=after,
        step_of=step_of,
        batch_script=batch_script,
        server=_server(),
        backend=backend_name(_server()),
    )
    text = render(data, verbosity)
    if output_filename:
        write_preview(text, output_filename)
    else:
        print(text, flush=True)
    return text
