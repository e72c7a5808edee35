"""``Experiment.preview``: what would run, shown without running or building anything.

The layout and labels follow SmartSim's plain-text preview (``=== Experiment
Overview ===``, ``= Model Name: m =``, ...) with SmartSim's verbosity levels:
``info`` shows what the user set, ``debug`` adds what sscontainer derives
(executable, run command, files, environment, working directory, image and
mounts), ``developer`` adds the launch argv and, under Slurm, the sbatch script.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum

from .entities.ensemble import Ensemble
from .entities.model import Model
from .entities.orchestrator import Orchestrator
from .entities.steps import SOCKET_DIR
from .errors import PreviewFormatError, SSConfigError
from .launchers.step import Step
from .settings.containers import ContainerSettings


class Verbosity(str, Enum):
    INFO = "info"
    DEBUG = "debug"
    DEVELOPER = "developer"


class Format(str, Enum):
    PLAINTEXT = "plain_text"


def check_options(verbosity_level: object, output_format: object) -> Verbosity:
    """The verbosity (``ValueError`` if unknown) after checking the format is plain text."""
    if Format.PLAINTEXT != output_format:
        raise PreviewFormatError(
            f"preview output format {output_format!r} is not available: use 'plain_text'"
        )
    try:
        return Verbosity(verbosity_level)
    except ValueError:
        raise SSConfigError(
            f"verbosity_level {verbosity_level!r}: use one of info, debug, developer"
        ) from None


@dataclass
class PreviewInput:
    """Everything the renderer needs; the experiment fills it in."""

    name: str
    exp_path: str
    launcher: str
    orchestrators: list[Orchestrator]
    models: list[Model]
    ensembles: list[Ensemble]
    active: list[Orchestrator] = field(default_factory=list)
    after: Mapping[str, Sequence[str]] = field(default_factory=dict)
    step_of: Callable[[Model], Step] | None = None
    batch_script: Callable[[Model, Ensemble | None], str] | None = None
    server: str = "redis-server"
    backend: str = "redis"


def _block(title: str, values: Iterable[object], indent: str = "        ") -> list[str]:
    items = [str(v) for v in values]
    return [f"{indent}{title}:", *(f"{indent}  {v}" for v in items)] if items else []


def start_order(after: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """Entities grouped in the stages they start in (each after its dependencies)."""
    level: dict[str, int] = {}

    def depth(name: str, seen: tuple[str, ...] = ()) -> int:
        if name in seen:  # a cycle is reported by the experiment file's checks
            return 0
        if name not in level:
            deps = after.get(name, ())
            level[name] = 1 + max((depth(d, (*seen, name)) for d in deps), default=-1)
        return level[name]

    for name in after:
        depth(name)
    stages: list[list[str]] = [[] for _ in range(max(level.values(), default=-1) + 1)]
    for name in after:
        stages[level[name]].append(name)
    return stages


def _orchestrator(db: Orchestrator, data: PreviewInput, verbosity: Verbosity) -> list[str]:
    lines = [
        f"    = Database Identifier: {db.name} =",
        f"        Shards: {db.num_shards}",
        *_block("TCP/IP Port(s)", db.ports),
        f"        Network Interface: {db.interfaces[0]}",
        f"        Type: {'Clustered' if db.is_cluster else 'Standalone'}",
    ]
    if db.batch:
        lines.append("        Batch Launch: True")
    if db.hosts:
        lines += _block("Hosts (shard i on hosts[i])", db.hosts)
    if verbosity != Verbosity.INFO:
        where = (
            f"interface {db.interfaces[0]} on each shard's node" if db.binds_on_nodes
            else db.bind_address
        )
        lines += [
            f"        Executable: {data.server}",
            f"        Listens: {where}",
            f"        Path: {db.path}",
        ]
        if db.needs_password:
            lines.append("        Password: generated at start (the launcher's own network)")
        elif not db.password:
            lines.append("        Password: none (SmartRedis sends none; password=... sets one)")
        if db.server_conf:
            lines += _block("Server Settings", (f"{k} {v}" for k, v in db.server_conf.items()))
        if db.run_args or db.batch_settings:
            lines += _block("Run Arguments", db.shard_batch_args())
        if data.launcher == "docker":
            lines.append("        Image: sscontainer's orchestrator image")
    return lines


def _assets(model: Model, verbosity: Verbosity) -> list[str]:
    lines: list[str] = []
    models = model.db_models
    if models:
        lines.append("        ML Models:")
        for asset in models:
            lines += [
                f"          Name: {asset.name}",
                f"            Path: {asset.model_path or '(in memory)'}",
                f"            Backend: {asset.backend}",
            ]
            if verbosity != Verbosity.INFO:
                lines += [
                    f"            Device: {asset.device}",
                    f"            Devices Per Node: {asset.devices_per_node}",
                    *_block("Inputs", asset.inputs, "            "),
                    *_block("Outputs", asset.outputs, "            "),
                ]
    scripts = model.db_scripts
    if scripts:
        lines.append("        Torch Scripts:")
        for script in scripts:
            where = script.script_path or ("(function)" if script.is_function else "(in memory)")
            lines += [f"          Name: {script.name}", f"            Path: {where}"]
            if verbosity != Verbosity.INFO:
                lines += [
                    f"            Device: {script.device}",
                    f"            Devices Per Node: {script.devices_per_node}",
                ]
    return lines


def _colocated(model: Model, verbosity: Verbosity) -> list[str]:
    config = model.colocated
    if config is None:
        return []
    lines = ["        Colocated:"]
    if config.db_identifier:
        lines.append(f"          Database Identifier: {config.db_identifier}")
    if config.transport == "tcp":
        lines += ["          Connection Type: TCP", "          TCP/IP Port(s):",
                  f"            {config.port}"]
    else:
        lines += ["          Connection Type: UDS", f"          Unix Socket: {config.unix_socket}"]
    if verbosity != Verbosity.INFO:
        if config.transport == "tcp":
            lines.append(f"          Network Interface Name: {config.ifname}")
        lines += [f"          CPUs: {config.db_cpus}",
                  f"          Custom Pinning: {config.custom_pinning}"]
    return lines


def _container(model: Model, data: PreviewInput) -> list[str]:
    """Image and mounts (docker), or the container runtime a model runs under."""
    container = model.run_settings.container
    if data.launcher == "local" or container is None and data.launcher != "docker":
        return []
    if isinstance(container, ContainerSettings) or data.launcher == "docker":
        settings = container if isinstance(container, ContainerSettings) else None
        image = settings.image if settings and settings.image else (
            "built by sscontainer from " + ((settings.base if settings else None)
                                            or "sscontainer's base image"))
        runtime = "docker" if data.launcher == "docker" else getattr(settings, "runtime", "")
        lines = [f"        Container Runtime: {runtime}", f"        Image: {image}"]
        if data.launcher == "docker":
            mounts = [f"{model.path} -> {model.path}"]
            if model.colocated is not None and model.colocated.transport == "uds":
                mounts.append(f"volume ssc-{data.name}-{model.name} -> {SOCKET_DIR}")
        else:
            mounts = [f"{model.path} -> /work/{model.name}"]
        return lines + _block("Mounts", mounts)
    return [f"        Container: {container!r}"]


def _model(
    model: Model, data: PreviewInput, verbosity: Verbosity, ensemble: Ensemble | None = None
) -> list[str]:
    rs = model.run_settings
    lines = [f"        Path: {model.path}"]
    if data.after.get(model.name):
        lines.append(f"        Starts After: {', '.join(data.after[model.name])}")
    if verbosity != Verbosity.INFO:
        lines.append(f"        Executable: {rs.exe[0]}")
        lines += _block("Executable Arguments", rs.exe_args)
        if rs.run_command:
            lines.append(f"        Run Command: {rs.run_command}")
        lines += _block("Run Arguments", (f"{k} {v}" for k, v in rs.run_args.items()))
    batch = model.batch_settings if ensemble is None else ensemble.batch_settings
    if batch is not None:
        lines.append("        Batch Launch: True")
        if verbosity != Verbosity.INFO:
            lines.append(f"        Batch Command: {batch.batch_cmd}")
            lines += _block("Batch Arguments", (f"{k}: {v}" for k, v in batch.batch_args.items()))
    lines += _block("Model Parameters", (f"{k}: {v}" for k, v in model.params.items()))
    if model.files and verbosity != Verbosity.INFO:
        for title, paths in (("Tagged Files for Model Configuration", model.files.tagged),
                             ("Copy Files", model.files.copy), ("Symlink Files", model.files.link)):
            lines += _block(title, (f"{p} -> {model.path}" for p in paths))
    lines += _colocated(model, verbosity) + _assets(model, verbosity)
    if model.query_key_prefixing():
        lines.append(f"        Key Prefix: {model.name}")
    if verbosity != Verbosity.INFO:
        lines += _container(model, data)
        if data.step_of is not None:
            step = data.step_of(model)
            lines += [f"        Working Directory: {step.cwd}",
                      f"        Output Files: {step.out}, {step.err}"]
            env = (f"{k}={shlex.quote(v)}" for k, v in sorted(step.env.items()))
            lines += _block("Environment", env)
            if verbosity == Verbosity.DEVELOPER:
                lines.append(f"        Launch Command: {shlex.join(step.argv)}")
    if verbosity == Verbosity.DEVELOPER and data.batch_script is not None:
        script = data.batch_script(model, ensemble)
        if script:
            lines += ["        Batch Script:", *("          " + s for s in script.splitlines())]
    return lines + _client_config(model, data, verbosity)


def _client_config(model: Model, data: PreviewInput, verbosity: Verbosity) -> list[str]:
    dbs = {db.name: db for db in [*data.active, *data.orchestrators]}
    if not dbs and model.colocated is None:
        return []
    lines = ["        Client Configuration:"]
    if model.colocated is not None:
        ident = model.colocated.db_identifier or "(colocated)"
        lines += [f"          Database Identifier: {ident}",
                  f"            Database Backend: {data.backend}", "            Type: Standalone"]
    for db in dbs.values():
        lines += [f"          Database Identifier: {db.name}",
                  f"            Database Backend: {data.backend}",
                  *_block("TCP/IP Port(s)", db.ports, "            "),
                  f"            Type: {'Clustered' if db.is_cluster else 'Standalone'}"]
    if model.query_key_prefixing() and (verbosity != Verbosity.INFO or dbs):
        lines += ["          Outgoing Key Collision Prevention (Key Prefixing):",
                  "            Tensors: On", "            Datasets: On",
                  "            ML Models/Torch Scripts: Off", "            Aggregation Lists: On"]
    return lines


def _ensemble(ens: Ensemble, data: PreviewInput, verbosity: Verbosity) -> list[str]:
    lines = [f"    = Ensemble Name: {ens.name} =", f"        Members: {len(ens)}"]
    if data.after.get(ens.name):
        lines.append(f"        Starts After: {', '.join(data.after[ens.name])}")
    if verbosity != Verbosity.INFO:
        lines += _block("Ensemble Parameters", (f"{k}: {v}" for k, v in ens.params.items()))
    members = list(ens.models)
    shown: list[Model | None] = list(members)
    if len(members) > 2 and verbosity != Verbosity.DEVELOPER:
        shown = [members[0], None, members[-1]]  # first and last, as SmartSim shows them
    for member in shown:
        if member is None:
            lines.append("        ...")
            continue
        lines += [f"    - Model Name: {member.name} -", *_model(member, data, verbosity, ens)]
    return lines


def render(data: PreviewInput, verbosity: Verbosity) -> str:
    lines = [
        "=== Experiment Overview ===",
        "",
        f"  Experiment Name: {data.name}",
        f"    Experiment Path: {data.exp_path}",
        f"    Launcher: {data.launcher}",
    ]
    if not (data.orchestrators or data.models or data.ensembles or data.active):
        return "\n".join(lines)
    lines += ["", "=== Entity Preview ==="]
    if data.active:
        lines += ["", "  == Active Infrastructure =="]
        for db in data.active:
            lines += _orchestrator(db, data, verbosity)
    stages = start_order(data.after)
    if len(stages) > 1:
        lines += ["", "  == Start Order =="]
        for i, names in enumerate(stages, 1):
            lines.append(f"    {i}. {', '.join(names)}")
    if data.orchestrators:
        lines += ["", "  == Orchestrators =="]
        for db in data.orchestrators:
            if db in data.active:
                lines.append(
                    f"    WARNING: Cannot preview {db.name}, because it is already started."
                )
            else:
                lines += _orchestrator(db, data, verbosity)
    if data.models:
        lines += ["", "  == Models =="]
        for model in data.models:
            lines += ["", f"    = Model Name: {model.name} =", *_model(model, data, verbosity)]
    if data.ensembles:
        lines += ["", "  == Ensembles =="]
        for ens in data.ensembles:
            lines += _ensemble(ens, data, verbosity)
    return "\n".join(lines)


def write_preview(text: str, output_filename: str) -> str:
    """Write ``text`` to ``output_filename`` or, when it exists, a numbered sibling."""
    import pathlib

    path = candidate = pathlib.Path(output_filename)
    index = 1
    while candidate.exists():
        candidate = path.with_name(f"{path.stem}_{index:02}{path.suffix or '.txt'}")
        index += 1
    candidate.write_text(text + "\n", encoding="utf-8")
    return str(candidate)
