"""Entity -> Step: the plain data a launcher needs to run a model."""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Mapping

from ..db.colocated_config import ColocatedConfig
from ..launchers.step import Mount, Step
from ..settings.batch import BatchSettings
from .client_env import smartredis_defaults
from .model import Model

SUPERVISOR_MODULE = "sscontainer.db.colocated"


SOCKET_DIR = "/run/sscontainer"  # in images: a volume other containers can mount


@dataclasses.dataclass(frozen=True)
class Placement:
    """Where a step runs: on the host, or in ``image`` (its tools on the image's PATH)."""

    image: str | None = None
    runtime: str | None = None
    mounts: tuple[Mount, ...] = ()
    labels: Mapping[str, str] = dataclasses.field(default_factory=dict)

    @property
    def in_container(self) -> bool:
        return self.image is not None

    @property
    def python(self) -> str:
        return "python3" if self.in_container else sys.executable


HOST = Placement()


def colocated_config_path(model: Model) -> str:
    return os.path.join(model.path, f"{model.name}.colocated.json")


def colocated_config(model: Model, place: Placement = HOST) -> ColocatedConfig | None:
    """The model's colocated config as launched.

    Paths are relative to the run directory (the working directory wherever the
    model runs); in a container the socket lives in the shared socket volume.
    """
    if model.colocated is None:
        return None
    config = model.colocated
    changes: dict[str, object] = {"log_path": config.log_path or f"{model.name}.db.log"}
    if place.in_container and config.transport == "uds":
        changes["unix_socket"] = f"{SOCKET_DIR}/{os.path.basename(config.unix_socket)}"
    return dataclasses.replace(config, **changes)  # type: ignore[arg-type]


def write_colocated_config(model: Model, place: Placement = HOST) -> None:
    config = colocated_config(model, place)
    if config is not None:
        config.save(colocated_config_path(model))


def _wrapper(model: Model, python: str) -> list[str]:
    if model.colocated is None:
        return []
    return [python, "-m", SUPERVISOR_MODULE, "--config", f"{model.name}.colocated.json", "--"]


def key_env(model: Model) -> dict[str, str]:
    """``SSKEYOUT``/``SSKEYIN`` per DESIGN.md's environment contract."""
    env: dict[str, str] = {}
    if model.query_key_prefixing():
        env["SSKEYOUT"] = model.name
    if model.incoming_entities:
        env["SSKEYIN"] = ",".join(e.name for e in model.incoming_entities)
    return env


def model_step(
    model: Model, db_env: Mapping[str, str] | None = None, place: Placement = HOST
) -> Step:
    """The step that runs ``model`` in its path, output to ``<name>.out/.err``.

    A colocated model runs under the database supervisor, which sets ``SSDB``
    to its own server for the application.
    """
    rs = model.run_settings
    own: dict[str, str] = {}
    for settings in (rs, *rs.mpmd):  # MPMD parts share one process environment here
        # None: take the launching environment's value, which a launch inherits anyway
        own.update({k: v for k, v in settings.env_vars.items() if v is not None})
    db = dict(db_env or {})
    colocated_id = [model.colocated.db_identifier] if model.colocated is not None else []
    env = {**smartredis_defaults(db, colocated_id), **db, **key_env(model), **own}
    step = Step(
        name=model.name,
        entity_type=model.entity_type,
        argv=tuple(rs.launch_argv(
            _wrapper(model, place.python), cwd=model.path, in_container=place.in_container
        )),
        cwd=model.path,
        out=os.path.join(model.path, f"{model.name}.out"),
        err=os.path.join(model.path, f"{model.name}.err"),
        env=env,
        resources=rs.resources(),
        image=place.image,
        runtime=place.runtime,
        mounts=place.mounts,
        labels=dict(place.labels),
    )
    return batched(step, model.batch_settings) if model.batch_settings else step


def batched(step: Step, settings: BatchSettings) -> Step:
    """``step`` under ``settings``: its batch options and preamble (a model's own, or a
    batched ensemble's, whose members share its one request)."""
    return dataclasses.replace(step, batch_args=tuple(settings.format_batch_args()),
                               preamble=tuple(settings.preamble))
