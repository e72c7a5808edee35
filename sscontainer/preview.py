"""``Experiment.preview``: what would run, shown without running anything."""

from __future__ import annotations

import shlex
from collections.abc import Iterable

from .entities.model import Model
from .entities.orchestrator import Orchestrator
from .launchers.step import Step


def orchestrator_lines(orch: Orchestrator) -> list[str]:
    kind = f"Redis Cluster of {orch.num_shards} shards" if orch.is_cluster else "standalone"
    ports = ", ".join(str(orch.port + i) for i in range(orch.num_shards))
    where = (
        f"interface {orch.interfaces[0]} on each shard's node" if orch.binds_on_nodes
        else orch.bind_address
    )
    lines = [
        f"\nOrchestrator {orch.name} ({kind})",
        f"  listens:   {where} ports {ports}",
        f"  dir:       {orch.path}",
    ]
    if orch.hosts:
        lines.append(f"  hosts:     {', '.join(orch.hosts)} (shard i on hosts[i])")
    if orch.needs_password:
        lines.append("  password:  generated at start (the launcher's own network)")
    elif not orch.password:
        lines.append("  password:  none (SmartRedis sends none; password=... requires one)")
    return lines


def model_lines(model: Model, step: Step) -> list[str]:
    lines = [
        f"\n{step.entity_type} {step.name}",
        f"  argv:      {shlex.join(step.argv)}",
        f"  cwd:       {step.cwd}",
        f"  out/err:   {step.out} / {step.err}",
    ]
    if step.image:
        lines.append(f"  image:     {step.image}")
    lines += [f"  env:       {key}={shlex.quote(value)}" for key, value in sorted(step.env.items())]
    if model.params:
        lines.append(f"  params:    {model.params}")
    if model.files:
        for kind, paths in (
            ("copy", model.files.copy),
            ("symlink", model.files.link),
            ("configure", model.files.tagged),
        ):
            lines += [f"  {kind + ':':<11}{path}" for path in paths]
    if step.batch_args:
        lines.append(f"  batch:     {shlex.join(step.batch_args)}")
    return lines


def preview_text(
    header: str, orchestrators: Iterable[Orchestrator], models: Iterable[tuple[Model, Step]]
) -> str:
    lines = [header]
    for orch in orchestrators:
        lines += orchestrator_lines(orch)
    for model, step in models:
        lines += model_lines(model, step)
    return "\n".join(lines)
