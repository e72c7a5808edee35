"""Experiment YAML -> Experiment with its models, ensembles and dependencies."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..entities.ensemble import Ensemble, models_of
from ..entities.model import Model
from ..entities.orchestrator import Orchestrator
from ..errors import SchemaError, SSConfigError
from ..experiment import Experiment
from ..generation.generator import entity_dir
from ..settings.containers import ContainerSettings
from ..settings.run import RunSettings
from .schema import validate_document
from .yaml_reader import read_document

# Later layers (database, containers, ML) add hooks: (plan, doc, errors) -> None
POST_LOAD_HOOKS: list[Callable[[Plan, dict[str, Any], list[str]], None]] = []


@dataclass
class Plan:
    """What the CLI runs: the experiment, its entities in file order, the DAG."""

    exp: Experiment
    source: str
    entities: dict[str, Model | Ensemble] = field(default_factory=dict)
    after: dict[str, list[str]] = field(default_factory=dict)
    tag: str | None = None
    base_dir: str = "."
    extras: dict[str, Any] = field(default_factory=dict)
    database: Orchestrator | None = None
    container: ContainerSettings | None = None  # the file's default for every entity
    base_image: str | None = None


def _files(spec: dict[str, Any], base: str) -> dict[str, list[str]]:
    def paths(key: str) -> list[str]:
        value = spec.get(key) or []
        items = [value] if isinstance(value, str) else value
        return [os.path.join(base, p) for p in items]

    return {
        "to_copy": paths("copy"),
        "to_symlink": paths("symlink"),
        "to_configure": paths("configure"),
    }


def _container(
    block: dict[str, Any] | None, base: str, base_image: str | None
) -> ContainerSettings | None:
    if block is None:
        return None
    data = dict(block)
    if base_image:
        data["base"] = base_image
    data["env"] = {k: str(v) for k, v in (data.get("env") or {}).items()}
    return ContainerSettings.from_mapping(data, root=base)


def _run_settings(
    exp: Experiment, spec: dict[str, Any], container: ContainerSettings | None = None
) -> RunSettings:
    run = spec.get("run") or {}
    args = spec.get("args") or []
    exe_args = args if isinstance(args, str) else [str(a) for a in args]
    settings = exp.create_run_settings(
        spec["exe"],
        exe_args,
        run_command=run.get("run_command", "auto"),
        run_args=run.get("args"),
        env_vars={k: str(v) for k, v in (run.get("env") or {}).items()},
        container=container,
    )
    if type(settings) is RunSettings:
        # no run command (local, docker): the file's resources are for launchers that use
        # them, so the same file runs everywhere without "not implemented" warnings
        return settings
    for key, setter in (
        ("nodes", settings.set_nodes),
        ("tasks", settings.set_tasks),
        ("tasks_per_node", settings.set_tasks_per_node),
        ("cpus_per_task", settings.set_cpus_per_task),
        ("walltime", settings.set_walltime),
        ("hostlist", settings.set_hostlist),
    ):
        if key in run:
            setter(run[key])
    return settings


def _batch(exp: Experiment, spec: dict[str, Any]) -> Any:
    batch = spec.get("batch")
    if not batch or exp.launcher != "slurm":
        return None  # batch settings only mean something to a workload manager
    return exp.create_batch_settings(
        nodes=batch.get("nodes", 1),
        time=batch.get("time", ""),
        queue=batch.get("queue", ""),
        account=batch.get("account", ""),
        batch_args=batch.get("args"),
    )


def _add_entity(plan: Plan, kind: str, spec: dict[str, Any]) -> Model | Ensemble:
    exp, base = plan.exp, plan.base_dir
    container = _container(spec.get("container"), base, plan.base_image) or plan.container
    settings = _run_settings(exp, spec, container)
    entity: Model | Ensemble
    if kind == "models":
        entity = exp.create_model(
            spec["name"],
            settings,
            params=spec.get("params"),
            enable_key_prefixing=spec.get("key_prefixing", False),
            batch_settings=_batch(exp, spec),
            params_as_args=spec.get("params_as_args"),
        )
    else:
        entity = exp.create_ensemble(
            spec["name"],
            params=spec.get("params"),
            run_settings=settings,
            replicas=spec.get("replicas"),
            perm_strategy=spec.get("strategy", "all_perm"),
            batch_settings=_batch(exp, spec),
            n_models=spec.get("n_models"),
        )
        if spec.get("key_prefixing") is False:
            for member in entity.models:
                member.disable_key_prefixing()
    if spec.get("files"):
        entity.attach_generator_files(**_files(spec["files"], base))
    if spec.get("colocated_db"):
        for member in models_of([entity]):
            _colocate(member, spec["colocated_db"])
    if spec.get("ml"):  # [ml] models/scripts to load before it runs
        from ..ml.cli_block import add_ml_block

        add_ml_block(entity, spec["ml"], base)
    return entity


def _colocate(model: Model, spec: dict[str, Any]) -> None:
    options: dict[str, Any] = {
        "db_cpus": spec.get("cpus", 1),
        "custom_pinning": spec.get("pinning"),
        "debug": spec.get("debug", False),
        "db_identifier": spec.get("db_identifier", ""),
        **(spec.get("config") or {}),
    }
    if spec.get("transport", "uds") == "tcp":
        model.colocate_db_tcp(port=spec.get("port", 6379), **options)
    else:
        model.colocate_db_uds(
            unix_socket=spec.get("unix_socket"),
            socket_permissions=spec.get("socket_permissions"),
            **options,
        )


def _database(plan: Plan, spec: dict[str, Any]) -> None:
    plan.database = plan.exp.create_database(
        port=spec.get("port", 6379),
        db_nodes=spec.get("shards", 1),
        interface=spec.get("interface", "lo"),
        db_identifier=spec.get("db_identifier", "orchestrator"),
        hosts=spec.get("hosts"),
        **(spec.get("config") or {}),
    )
    if spec.get("ml_backends"):
        from ..ml.hooks import set_ml_backends  # [ml]

        set_ml_backends(plan.database, spec["ml_backends"])


def _exp_path(doc: dict[str, Any], path: str) -> str:
    base = os.path.dirname(os.path.abspath(path))
    return os.path.normpath(os.path.join(base, doc.get("path") or doc["name"]))


def experiment_dir(target: str) -> str:
    """The experiment directory ``target`` names: itself, or the one its YAML file names."""
    if os.path.isdir(target):
        return os.path.abspath(target)
    if os.path.isfile(target):
        return _exp_path(validate_document(read_document(target), target), target)
    raise SSConfigError(
        f"{target}: no such directory or file: give the experiment directory (the YAML's "
        "path:, default ./<name>) or the experiment's YAML file"
    )


def load_plan(path: str, launcher: str | None = None, base_image: str | None = None) -> Plan:
    """Read, validate and build the experiment described by the YAML file at ``path``."""
    doc = validate_document(read_document(path), path)
    base = os.path.dirname(os.path.abspath(path))
    exp_path = _exp_path(doc, path)
    exp = Experiment(
        doc["name"], exp_path=exp_path, launcher=launcher or doc.get("launcher", "local")
    )
    plan = Plan(exp, path, tag=doc.get("tag"), base_dir=base, base_image=base_image)
    errors: list[str] = []
    try:
        plan.container = _container(doc.get("container"), base, base_image)
        if plan.container is None and base_image:
            plan.container = _container({}, base, base_image)
        if plan.container is not None:
            exp.default_container = plan.container
    except SSConfigError as exc:
        errors.append(f"container: {exc}")
    if doc.get("database"):
        try:
            _database(plan, doc["database"])
        except SSConfigError as exc:
            errors.append(f"database: {exc}")
    for kind in ("models", "ensembles"):
        for i, spec in enumerate(doc.get(kind) or []):
            try:
                plan.entities[spec["name"]] = _add_entity(plan, kind, spec)
            except SSConfigError as exc:
                errors.append(f"{kind}[{i}] ({spec['name']}): {exc}")
                continue
            plan.after[spec["name"]] = list(spec.get("after") or [])
    for kind in ("models", "ensembles"):
        for i, spec in enumerate(doc.get(kind) or []):
            entity = plan.entities.get(spec["name"])
            for j, name in enumerate(spec.get("incoming") or []):
                other = plan.entities.get(name)
                if other is None:
                    errors.append(f"{kind}[{i}].incoming[{j}]: no model or ensemble named {name!r}")
                elif entity is not None:
                    entity.register_incoming_entity(other)
    # the CLI always generates, so entities run (and preview) in their run directories
    for name, entity in plan.entities.items():
        if isinstance(entity, Ensemble):
            for member in entity.models:
                member.path = entity_dir(exp.exp_path, member, name)
        else:
            entity.path = entity_dir(exp.exp_path, entity)
    for hook in POST_LOAD_HOOKS:
        hook(plan, doc, errors)
    if errors:
        raise SchemaError(path, errors)
    return plan
