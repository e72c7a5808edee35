"""``Experiment.generate``: check every target first, then write the run directories.

Nothing is created until every target passed: the experiment path can be made,
no run directory would replace something sscontainer did not make (see
:mod:`.ownership`), and no attached directory contains the run directory it would
be copied into.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from ..entities.ensemble import Ensemble
from ..entities.model import Model
from ..entities.orchestrator import Orchestrator
from ..errors import GenerationError
from ..limits import check_path
from ..log import get_logger
from . import ownership
from .generator import entity_dir, generate_model

logger = get_logger("sscontainer.experiment")  # SmartSim logs generation there


def _inside(path: str, parent: str) -> bool:
    parent = os.path.realpath(parent)
    return os.path.commonpath([os.path.realpath(path), parent]) == parent


def check_sources(model: Model, run_dir: str) -> None:
    """A copied or configured directory must not contain the run directory it goes to."""
    if model.files is None:
        return
    for src in [*model.files.copy, *model.files.tagged]:
        if os.path.isdir(src) and _inside(run_dir, src):
            raise GenerationError(
                f"{model.name}: the attached directory {src} contains its run directory "
                f"{run_dir}: copying it would copy the experiment into itself; attach the "
                "files it needs instead, or put the experiment path outside it"
            )


def _targets(exp_path: str, entities: Sequence[Any]) -> tuple[
    list[tuple[Model, str]], list[str], list[str]
]:
    models: list[tuple[Model, str]] = []
    ensembles: list[str] = []
    databases: list[str] = []
    for entity in entities:
        if isinstance(entity, Orchestrator):
            databases.append(os.path.join(exp_path, entity.name))
        elif isinstance(entity, Ensemble):
            ensembles.append(os.path.join(exp_path, entity.name))
            models.extend((m, entity_dir(exp_path, m, entity.name)) for m in entity.models)
        else:
            models.append((entity, entity_dir(exp_path, entity)))
    return models, ensembles, databases


def generate_entities(
    exp_path: str,
    entities: Sequence[Any],
    tag: str | None = None,
    overwrite: bool = False,
    rerun: bool = False,
    verbose: bool = False,
) -> list[str]:
    """Write the run directories of ``entities``; returns where edited ones were kept."""
    check_path(exp_path, "experiment path")
    models, ensembles, databases = _targets(exp_path, entities)
    replacer = ownership.Replacer(exp_path)
    for path in [*ensembles, *databases]:  # kept as they are: only their owner matters
        if os.path.lexists(path) and not (replacer.owned(path) and os.path.isdir(path)):
            replacer.check(path, overwrite=False)  # raises: not sscontainer's
    actions = []
    for model, run_dir in models:
        check_sources(model, run_dir)
        actions.append(replacer.check(run_dir, overwrite, rerun))
    kept: list[str] = []
    try:
        os.makedirs(exp_path, exist_ok=True)
        for entity in entities:
            if isinstance(entity, Orchestrator):
                entity.set_path(os.path.join(exp_path, entity.name))
            elif isinstance(entity, Ensemble):
                entity.path = os.path.join(exp_path, entity.name)
        for path in [*ensembles, *databases]:
            os.makedirs(path, exist_ok=True)
        made = [p for p in [*ensembles, *databases] if not replacer.owned(p)]
        if made:
            ownership.record(exp_path, *made)
        for (model, run_dir), action in zip(models, actions, strict=True):
            moved = replacer.clear(run_dir, action)
            if moved:
                kept.append(moved)
            generate_model(model, run_dir, overwrite=False, tag=tag)
            ownership.record(exp_path, run_dir)
            if verbose:
                params = ", ".join(f"{k}={v}" for k, v in model.params.items())
                logger.info(f"Configured model {model.name} with "
                            + (f"params {params}" if params else "no parameters"))
    except OSError as exc:
        raise GenerationError(
            f"could not write under {exp_path}: {exc.strerror or exc} ({exc.filename}): check "
            "that the experiment path is writable and has space"
        ) from exc
    return kept
