"""A started database's checkpoint file: how a later driver reaches and stops it.

``<orchestrator path>/smartsim_db.dat`` (SmartSim's name) is JSON: the
database's identifier, shape and addresses, where its password file is (never
the password itself), and the launch record of every job (shards and ML
workers) so ``Experiment.reconnect_orchestrator`` can watch and stop them.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict
from typing import Any

from ..errors import MissingFileError, SSDBFilesNotParseable
from ..jobs import Job
from ..manifest import entry_for, parse_entry
from .address import ServerAddress, parse_address

VERSION = 1


def write_checkpoint(
    path: str, orch: Any, jobs: list[Job], password_file: str | None
) -> None:
    """Record ``orch`` (running, with ``jobs``) at ``path``, atomically, mode 0600."""
    data = {
        "version": VERSION,
        "db_identifier": orch.db_identifier,
        "port": orch.port,
        "db_nodes": orch.db_nodes,
        "interfaces": list(orch.interfaces),
        "path": orch.path,
        "addresses": [str(a) for a in orch.addresses],
        "password_file": password_file,
        "jobs": [asdict(entry_for(j)) for j in jobs],
    }
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".checkpoint-")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
    os.replace(tmp, path)


def read_checkpoint(path: str) -> dict[str, Any]:
    """The checkpoint's data; ``FileNotFoundError`` or ``SSDBFilesNotParseable`` if unusable."""
    if not os.path.isfile(path):
        raise MissingFileError(
            f"checkpoint file {path} does not exist: give the orchestrator's checkpoint_file "
            "(<its path>/smartsim_db.dat) written when it started"
        )
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        data["addresses"] = [parse_address(a) for a in data["addresses"]]
        data["jobs"] = [parse_entry(entry, f"{path}: job {i}")
                        for i, entry in enumerate(data["jobs"])]
        for key in ("db_identifier", "port", "db_nodes", "interfaces", "path"):
            data[key]  # noqa: B018 - every key must be there
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SSDBFilesNotParseable(
            f"checkpoint file {path} cannot be read ({exc}): it is not one sscontainer wrote"
        ) from exc
    return dict(data)


def addresses_of(data: dict[str, Any]) -> list[ServerAddress]:
    return list(data["addresses"])
