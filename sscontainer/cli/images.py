"""``sscontainer build`` and ``convert``, and the image specs ``generate`` writes."""

from __future__ import annotations

import os
import sys

import click

from ..entities.ensemble import models_of
from ..errors import SSConfigError
from ..specs.model import ContainerSpec
from .loader import Plan


def plan_specs(plan: Plan) -> dict[str, ContainerSpec]:
    """Every distinct image the plan needs (ensemble members share one)."""
    from ..build.entity_images import model_image_spec
    from ..ml.hooks import database_backends
    from ..specs.entities import orchestrator_spec

    specs: dict[str, ContainerSpec] = {}
    on_host = plan.container is not None and plan.container.on_host  # runtime "none"
    models = models_of(plan.entities.values())
    if plan.database is not None and not on_host:
        spec = orchestrator_spec(backends=database_backends(plan.database, models))
        specs[repr(spec)] = spec
    for model in models:
        if model.run_settings.container is None:
            model.run_settings.container = plan.exp.default_container
        model_spec = model_image_spec(model, plan.base_dir)
        if model_spec is not None:
            specs.setdefault(repr(model_spec), model_spec)
    return specs


def images_dir(plan: Plan) -> str:
    """``<exp_path>/images``, checked: one sscontainer did not make is never written into
    (``path: .`` in a project with its own ``images/``)."""
    from ..generation.ownership import Replacer

    folder = os.path.join(plan.exp.exp_path, "images")
    replacer = Replacer(plan.exp.exp_path)
    if os.path.lexists(folder) and not (replacer.owned(folder) and os.path.isdir(folder)):
        raise SSConfigError(
            f"{folder} exists and sscontainer did not make it: image specs are not written "
            "into it; choose another experiment path (the YAML's path:)"
        )
    return folder


def write_plan_specs(plan: Plan) -> list[str]:
    """Write each image's Dockerfile and Apptainer .def under ``<exp_path>/images/``."""
    from ..build.context import write_specs
    from ..generation.ownership import record

    root = images_dir(plan)
    fresh = not os.path.exists(root)
    written = []
    names: dict[str, int] = {}
    for spec in plan_specs(plan).values():
        names[spec.name] = names.get(spec.name, 0) + 1
        folder = spec.name if names[spec.name] == 1 else f"{spec.name}-{names[spec.name]}"
        out = os.path.join(root, folder)
        files = write_specs(spec, out, context_dir=plan.base_dir)
        written.append(out)
        for problem in files.disagreements:
            click.echo(f"sscontainer: warning: {out}: {problem}", err=True)
    if fresh and os.path.isdir(root):
        record(plan.exp.exp_path, root)
    return written


def build_plan(plan: Plan, formats: str, no_cache: bool, quiet: bool) -> list[tuple[str, str]]:
    """Build the plan's images; returns (entity, image) rows.

    ``apptainer`` builds each SIF from its definition file (Apptainer's own build);
    ``both`` builds the Docker images, then converts them (``docker-daemon://``).
    """
    from ..build.entity_images import EntityImages
    from ..build.sif_images import SifImages

    rows: list[tuple[str, str]] = []
    if formats in ("docker", "both"):
        entities = [*([plan.database] if plan.database else []), *plan.entities.values()]
        for name, tag in plan.exp.build(*entities, no_cache=no_cache, quiet=quiet).items():
            rows.append((name, tag))
    if formats in ("apptainer", "both"):
        docker = EntityImages(plan.base_dir, no_cache=no_cache, quiet=quiet)
        sifs = SifImages(docker)
        for spec in plan_specs(plan).values():
            result = sifs.build(spec, via_docker=formats == "both")
            rows.append((spec.name, str(result.path) if result.available else result.message))
    return rows


def convert_file(source: str, to_format: str, output: str | None) -> None:
    from ..specs.convert import convert_recipe

    text = convert_recipe(source, to_format)
    if output is None:
        sys.stdout.write(text)
        return
    try:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise SSConfigError(
            f"cannot write {output}: {exc.strerror or exc}: give --output a path in a "
            "writable directory (or leave it out for standard output)"
        ) from exc
