"""Where ML meets the rest of sscontainer: worker steps, asset loading, colocated workers.

- :func:`worker_steps`: ``start_orchestrator`` launches one inference worker per shard
  (one per device with GPU devices, see :func:`set_ml_devices`) once the shards
  answer. A worker is a small Python process that blocks on its queue and imports
  no framework until a model runs, so a database that never uses ML pays one idle
  process per shard (one blocking take a second while idle). Set
  ``SSCONTAINER_ML_WORKERS=0`` (or ``set_ml_devices(db, [])``) to start none.
  Workers run on the host beside host shards; a Slurm shard's job and a shard's
  container (docker) run ``sscontainer.db.shard``, which starts its own beside its
  server (the image holds the backends the models need: ``specs/packages.py``).
- :func:`load_model_assets`: ``Experiment`` calls it before launching each model.
- :func:`start_colocated_workers`/:func:`stop_colocated_workers`: the colocated
  supervisor runs workers beside its server, pinned to the server's CPUs.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..entities.client_env import database_suffixes
from ..errors import SSConfigError
from ..launchers.step import Step
from .assets import bundle_dir, manifest_devices, store_assets, write_bundle
from .devices import CPU, slug, worker_device, worker_env
from .processes import PASSWORD_ENV, start_worker, stop_workers, worker_argv

DISABLE_ENV = "SSCONTAINER_ML_WORKERS"
ENTITY_TYPE = "MLWorker"
_DEVICES_ATTR = "ml_devices"
_BACKENDS_ATTR = "ml_backends"


def workers_disabled() -> bool:
    """``SSCONTAINER_ML_WORKERS=0``: no inference worker anywhere."""
    return os.environ.get(DISABLE_ENV, "").strip().lower() in ("0", "no", "false", "off")


# --- orchestrators ------------------------------------------------------------------
def set_ml_devices(orch: Any, devices: Iterable[str]) -> None:
    """The devices whose workers run beside each shard of ``orch`` (default ``["CPU"]``).

    Call before starting it, e.g. ``set_ml_devices(db, ["CPU", *gpu_devices(2)])``.
    The database module queues each job for its model's device and that device's
    worker takes it; models and scripts default to the CPU, so any non-empty list
    must hold ``"CPU"``; ``[]`` starts no worker.
    """
    chosen = sorted({worker_device(d) for d in devices})
    if chosen and CPU not in chosen:
        raise SSConfigError(
            f"ML devices {chosen}: include 'CPU' (models and scripts run there by default)"
        )
    setattr(orch, _DEVICES_ATTR, tuple(chosen))


def set_ml_backends(orch: Any, backends: Iterable[str]) -> None:
    """ML backends the database's workers must run besides those of the experiment's
    models' ``add_ml_model``/``add_script`` assets (e.g. for models an application
    stores itself with ``set_model``). Under the docker and slurm launchers the
    database's image gets their frameworks."""
    from .asset_settings import check_backend

    setattr(orch, _BACKENDS_ATTR, tuple(sorted({check_backend(b) for b in backends})))


def asset_backends(model: Any) -> set[str]:
    """The backends ``model``'s ML assets run on (scripts run on TORCH)."""
    found = {asset.backend for asset in getattr(model, "db_models", [])}
    if getattr(model, "db_scripts", []):
        found.add("TORCH")
    return found


def database_backends(orch: Any, models: Iterable[Any]) -> tuple[str, ...]:
    """The backends ``orch``'s workers need: its own list and every non-colocated model's
    assets (a colocated model's run beside its own server); none when it runs no worker."""
    if not ml_devices(orch):
        return ()
    found = set(getattr(orch, _BACKENDS_ATTR, ()))
    for model in models:
        if getattr(model, "colocated", None) is None:
            found |= asset_backends(model)
    return tuple(sorted(found))


def ml_devices(orch: Any) -> tuple[str, ...]:
    if workers_disabled():
        return ()
    devices: tuple[str, ...] = getattr(orch, _DEVICES_ATTR, (CPU,))
    return devices


def worker_steps(
    orch: Any, base_dir: str, place: Any = None, launcher_name: str = "local"
) -> list[Step]:
    """One worker Step per shard and device, out/err beside the shard's.

    ``orch`` must be running (its addresses known). ``place``: the shards'
    placement; containerized and Slurm shards start their own (see the module doc).
    """
    if getattr(place, "in_container", False) or launcher_name == "slurm":
        return []
    env_password = {PASSWORD_ENV: orch.password} if orch.password else {}
    steps = []
    for index, address in enumerate(orch.addresses):
        for device in ml_devices(orch):
            name = f"{orch.name}_{index}_ml_{slug(device)}"
            steps.append(Step(
                name=name,
                entity_type=ENTITY_TYPE,
                argv=tuple(worker_argv(str(address), device, PASSWORD_ENV if orch.password
                                       else None, getattr(orch, "ml_threads", None))),
                cwd=base_dir,
                out=os.path.join(base_dir, f"{name}.out"),
                err=os.path.join(base_dir, f"{name}.err"),
                env={**worker_env(device), **env_password},
                labels={"sscontainer.db": orch.name, "sscontainer.ml_device": device},
            ))
    return steps


# --- models -----------------------------------------------------------------------------
def _databases(db_env: Mapping[str, str]) -> list[tuple[str, bool, str | None]]:
    """``(SSDB, clustered, password)`` of every database in ``db_env`` (SSDB, SSDB_<id>)."""
    found = []
    for suffix in database_suffixes(db_env):
        ssdb = db_env.get(f"SSDB{suffix}")
        if ssdb is None:  # "" is listed even without a plain SSDB
            continue
        clustered = db_env.get(f"SR_DB_TYPE{suffix}", "").lower() == "clustered"
        found.append((ssdb, clustered, db_env.get(f"SSDB_PASSWORD{suffix}") or None))
    return found


def load_model_assets(model: Any, db_env: Mapping[str, str]) -> None:
    """Put ``model``'s ML models and scripts where it will find them when it starts.

    Colocated: written into its run directory for the supervisor to load. Otherwise
    stored in every running database of ``db_env``; none running is an error.
    """
    models, scripts = list(model.db_models), list(model.db_scripts)
    colocated = getattr(model, "colocated", None)
    if not models and not scripts:
        if colocated is not None and colocated.assets_file == _manifest_name(model):
            colocated.assets_file = None  # assets were removed since the last start
        return
    if colocated is not None:
        colocated.assets_file = write_bundle(model.path, model.name, models, scripts)
        return
    databases = _databases(db_env)
    names = ", ".join(a.name for a in [*models, *scripts])
    if not databases:
        raise SSConfigError(
            f"model {model.name!r} has ML models/scripts ({names}) but no database is running "
            "and it is not colocated: start a database first (exp.start(db) before, or with, "
            "the model) or colocate it (colocate_db_uds/colocate_db_tcp)"
        )
    from ..client.direct import connect

    for ssdb, clustered, password in databases:
        with connect(ssdb, clustered, password) as client:
            store_assets(client, models, scripts)


def _manifest_name(model: Any) -> str:
    return os.path.join(os.path.basename(bundle_dir(model.path, model.name)), "manifest.json")


# --- colocated databases -------------------------------------------------------------------
def start_colocated_workers(
    config: Any, cpus: Sequence[int] | None = None
) -> list[subprocess.Popen[bytes]]:
    """Workers beside a colocated server (CPU, plus the GPUs its assets name)."""
    if workers_disabled():
        return []
    log = f"{os.path.splitext(config.log_path)[0]}.ml.log" if config.log_path else None
    return [
        start_worker(config.ssdb, device, threads=config.ml_threads, cpus=cpus, log_path=log)
        for device in manifest_devices(config.assets_file)
    ]


def stop_colocated_workers(procs: Sequence[subprocess.Popen[bytes]], server_stopped: bool) -> None:
    """Stop the workers once their server is gone; others ranks still use a live one."""
    if server_stopped:
        stop_workers(procs)
