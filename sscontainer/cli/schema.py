"""The experiment YAML schema: checks a loaded document, naming each error's place.

Every problem becomes one line such as ``models[1].params.THERMO: ...``; all
problems are collected before raising, so a user fixes them in one pass.
"""

from __future__ import annotations

from typing import Any

from ..errors import SchemaError, SSConfigError
from ..limits import MAX_ERRORS, check_members
from ..names import RESERVED_NAMES, reserved_message
from .schema_checks import (
    Check,
    fields,
    is_bool,
    is_count,
    is_db_nodes,
    is_name,
    is_port,
    is_pos_int,
    is_scalar,
    is_str,
    is_walltime,
    list_of,
    map_of,
    one_of,
    optional_scalar,
    scalar_or_list,
)

LAUNCHER_CHOICES = ("local", "docker", "slurm", "auto")
STRATEGIES = ("all_perm", "step", "random")

_BACKEND = one_of("TORCH", "ONNX", "TF", "TFLITE")  # RedisAI's backend names
DATABASE = fields(
    {
        "port": is_port,
        "shards": is_db_nodes,
        "interface": is_str,
        "db_identifier": is_name,
        "hosts": list_of(is_str, allow_str=True),
        "ml_backends": list_of(_BACKEND),
        "config": map_of(is_scalar),
    }
)
COLOCATED_DB = fields(
    {
        "transport": one_of("uds", "tcp"),
        "port": is_port,
        "unix_socket": is_str,
        "socket_permissions": is_scalar,
        "cpus": is_pos_int,
        "pinning": list_of(is_scalar, allow_str=True),
        "debug": is_bool,
        "db_identifier": is_name,
        "config": map_of(is_scalar),
    }
)

CONTAINER = fields(
    {
        "base": is_str,
        "apt": list_of(is_str),
        "pip": list_of(is_str),
        "copy": list_of(is_str, allow_str=True),
        "runtime": one_of("apptainer", "singularity", "podman", "charliecloud", "docker", "none"),
        "image": is_str,
        "user": is_name,
        "uid": is_pos_int,
        "gid": is_pos_int,
        "env": map_of(is_scalar),
        "workdir": is_str,
    }
)


# [ml] ml: {models: [...], scripts: [...]}, loaded before the entity runs (ml/cli_block.py)
ML_PLACEMENT: dict[str, Check] = {
    "device": is_str, "devices_per_node": is_pos_int, "first_device": is_count,
}
ML = fields(
    {
        "models": list_of(fields(
            {
                "name": is_name, "backend": _BACKEND,
                "path": is_str, **ML_PLACEMENT, "batch_size": is_count, "min_batch_size": is_count,
                "min_batch_timeout": is_count, "tag": is_str,
                "inputs": list_of(is_str, allow_str=True),
                "outputs": list_of(is_str, allow_str=True),
            },
            required=("name", "backend", "path"),
        )),
        "scripts": list_of(fields(
            {"name": is_name, "path": is_str, **ML_PLACEMENT}, required=("name", "path")
        )),
    }
)

# Extra fields later layers (ML) register here.
TOP_LEVEL_EXTRA: dict[str, Check] = {"database": DATABASE, "container": CONTAINER}
ENTITY_EXTRA: dict[str, Check] = {"colocated_db": COLOCATED_DB, "container": CONTAINER, "ml": ML}

RUN = fields(
    {
        "nodes": is_pos_int,
        "tasks": is_pos_int,
        "tasks_per_node": is_pos_int,
        "cpus_per_task": is_pos_int,
        "walltime": is_walltime,
        "hostlist": list_of(is_str, allow_str=True),
        "env": map_of(is_scalar),
        "args": map_of(optional_scalar),
        "run_command": one_of("auto", "none", "srun", "mpirun", "mpiexec"),
    }
)
BATCH = fields(
    {
        "nodes": is_pos_int,
        "time": is_walltime,
        "queue": is_str,
        "account": is_str,
        "args": map_of(optional_scalar),
    }
)
FILES = fields(
    {
        "copy": list_of(is_str, allow_str=True),
        "symlink": list_of(is_str, allow_str=True),
        "configure": list_of(is_str, allow_str=True),
    }
)


def _entity_fields() -> dict[str, Check]:
    return {
        "name": is_name,
        "exe": is_str,
        "args": list_of(is_scalar, allow_str=True),
        "run": RUN,
        "batch": BATCH,
        "files": FILES,
        "after": list_of(is_name),
        "key_prefixing": is_bool,
        "incoming": list_of(is_name),
        **ENTITY_EXTRA,
    }


def model_check() -> Check:
    return fields(
        {**_entity_fields(), "params": map_of(is_scalar), "params_as_args": list_of(is_str)},
        required=("name", "exe"),
    )


def ensemble_check() -> Check:
    return fields(
        {
            **_entity_fields(),
            "params": map_of(scalar_or_list),
            "strategy": one_of(*STRATEGIES),
            "n_models": is_pos_int,
            "replicas": is_pos_int,
        },
        required=("name", "exe"),
    )


def validate_document(doc: Any, source: str) -> dict[str, Any]:
    """Check ``doc`` against the schema and cross-references; raise SchemaError."""
    errors: list[str] = []
    top = fields(
        {
            "name": is_name,
            "path": is_str,
            "launcher": one_of(*LAUNCHER_CHOICES),
            "tag": is_str,
            "models": list_of(model_check()),
            "ensembles": list_of(ensemble_check()),
            **TOP_LEVEL_EXTRA,
        },
        required=("name",),
    )
    top(doc, "experiment", errors)
    if errors:
        raise SchemaError(source, bounded([e.removeprefix("experiment.") for e in errors]))
    _cross_check(doc, errors)
    if errors:
        raise SchemaError(source, bounded(errors))
    return dict(doc)


def bounded(errors: list[str]) -> list[str]:
    """The first :data:`MAX_ERRORS` problems, and how many more there are."""
    if len(errors) <= MAX_ERRORS:
        return errors
    return [*errors[:MAX_ERRORS], f"... and {len(errors) - MAX_ERRORS} more problems"]


# keys a ``config:`` block may not hold: the block's own fields (or the API's arguments)
DATABASE_ARGS = frozenset({
    "port", "path", "db_nodes", "batch", "hosts", "run_command", "interface", "account",
    "time", "queue", "single_cmd", "db_identifier", "shards",
})
COLOCATED_ARGS = frozenset({
    "port", "ifname", "unix_socket", "socket_permissions", "db_cpus", "cpus", "custom_pinning",
    "pinning", "debug", "db_identifier", "transport",
})


def _config_keys(block: Any, where: str, taken: frozenset[str], errors: list[str]) -> None:
    config = block.get("config") if isinstance(block, dict) else None
    for key in config or {}:
        if key in taken or key.replace("-", "_") in taken:
            errors.append(
                f"{where}.config.{key}: {key!r} is a setting of its own here: give it as "
                f"{where}.{key} (config holds server settings such as maxmemory)"
            )


def ensemble_size(entry: dict[str, Any]) -> int:
    """How many members an ensemble entry makes (computed, nothing expanded)."""
    params = entry.get("params") or {}
    counts = [len(v) if isinstance(v, list) else 1 for v in params.values()]
    strategy = entry.get("strategy", "all_perm")
    if not counts:
        combos = 1
    elif strategy == "step":
        combos = max(counts)
    else:
        combos = 1
        for count in counts:
            combos *= count
        if strategy == "random" and entry.get("n_models"):
            combos = min(combos, entry["n_models"])
    return combos * (entry.get("replicas") or 1)


def _cross_check(doc: dict[str, Any], errors: list[str]) -> None:
    entries = [("models", i, m) for i, m in enumerate(doc.get("models") or [])]
    entries += [("ensembles", i, e) for i, e in enumerate(doc.get("ensembles") or [])]
    if not entries:
        errors.append("experiment: no models or ensembles: add at least one under 'models:'")
    _config_keys(doc.get("database"), "database", DATABASE_ARGS, errors)
    db_id = (doc.get("database") or {}).get("db_identifier", "orchestrator")
    if doc.get("database") and db_id in RESERVED_NAMES:
        errors.append(f"database.db_identifier: {reserved_message(db_id)}")
    seen: dict[str, str] = {}
    for kind, i, entry in entries:
        where = f"{kind}[{i}].name"
        if entry["name"] in RESERVED_NAMES:
            errors.append(f"{where}: {reserved_message(entry['name'])}")
        if entry["name"] in seen:
            errors.append(f"{where}: {entry['name']!r} is already used by {seen[entry['name']]}")
        seen.setdefault(entry["name"], where)
    for kind, i, entry in entries:
        for j, dep in enumerate(entry.get("after") or []):
            if dep not in seen:
                errors.append(f"{kind}[{i}].after[{j}]: no model or ensemble named {dep!r}")
            elif dep == entry["name"]:
                errors.append(f"{kind}[{i}].after[{j}]: an entity cannot wait for itself")
        _config_keys(entry.get("colocated_db"), f"{kind}[{i}].colocated_db", COLOCATED_ARGS,
                     errors)
        if kind == "ensembles":
            try:
                check_members(ensemble_size(entry), f"ensembles[{i}] ({entry['name']})")
            except SSConfigError as exc:
                errors.append(str(exc))
            if not entry.get("params") and not entry.get("replicas"):
                errors.append(f"ensembles[{i}]: give 'params' or 'replicas'")
            if entry.get("strategy") == "random" and "n_models" not in entry:
                errors.append(f"ensembles[{i}].n_models: required with strategy 'random'")
    cycle = find_cycle({e["name"]: list(e.get("after") or []) for _, _, e in entries})
    if cycle:
        errors.append("after: dependency cycle " + " -> ".join(cycle))


def find_cycle(graph: dict[str, list[str]]) -> list[str]:
    """A cycle in ``graph`` (node -> nodes it waits for), or [] when it is a DAG."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for dep in graph.get(node, []):
            if state.get(dep) == 1:
                return [*stack[stack.index(dep) :], dep]
            if dep in graph and dep not in state and (found := visit(dep)):
                return found
        stack.pop()
        state[node] = 2
        return []

    for node in graph:
        if node not in state and (found := visit(node)):
            return found
    return []
