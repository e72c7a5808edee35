"""Locating the RedisAI-compatible module and the loadmodule line of server configs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sscontainer.db.redisai import IMAGE_MODULE_PATH, MODULE_ENV, MODULE_FILE, module_path
from sscontainer.db.server_config import ShardConfig, render_config
from sscontainer.errors import DatabaseError, ModuleNotBuiltError, SSConfigError
from sscontainer.specs.entities import orchestrator_spec


def test_the_installed_module_is_found_and_loadable() -> None:
    path = module_path()
    assert os.path.isabs(path) and path.endswith(MODULE_FILE)
    assert os.access(path, os.X_OK)  # servers refuse modules without an execute bit


def test_a_missing_module_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ModuleNotBuiltError, match="apt-get install gcc") as info:
        module_path(str(tmp_path))
    assert isinstance(info.value, DatabaseError)


def test_the_environment_overrides_the_path(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    built = tmp_path / "other.so"
    built.write_bytes(b"\x7fELF")
    monkeypatch.setenv(MODULE_ENV, str(built))
    assert module_path() == str(built)
    monkeypatch.setenv(MODULE_ENV, str(tmp_path / "missing.so"))
    with pytest.raises(ModuleNotBuiltError, match=MODULE_ENV):
        module_path()


def test_every_config_loads_the_module_by_default() -> None:
    lines = render_config(ShardConfig(port=7001)).splitlines()
    assert f'loadmodule "{module_path()}"' in lines


def test_module_arguments_and_a_plain_server() -> None:
    cfg = ShardConfig(port=7001, redisai_args={"WORKER_WAIT_MS": "250", "MODEL_CHUNK_SIZE": "64"})
    assert f'loadmodule "{module_path()}" WORKER_WAIT_MS 250 MODEL_CHUNK_SIZE 64' in \
        render_config(cfg).splitlines()
    plain = render_config(ShardConfig(port=7001, redisai=False))
    assert "loadmodule" not in plain
    inside = render_config(ShardConfig(port=7001, redisai_module=IMAGE_MODULE_PATH))
    assert f'loadmodule "{IMAGE_MODULE_PATH}"' in inside.splitlines()


@pytest.mark.parametrize("args", [
    {"worker_wait_ms": "1"},          # names are upper case
    {"WORKER_WAIT_MS": "1 2"},        # values are one word
    {"WORKER_WAIT_MS": 'x"'},
])
def test_bad_module_arguments_are_refused(args: dict[str, str]) -> None:
    with pytest.raises(SSConfigError, match="module argument"):
        ShardConfig(port=7001, redisai_args=args)


def test_module_path_must_be_absolute() -> None:
    with pytest.raises(SSConfigError, match="absolute"):
        ShardConfig(port=7001, redisai_module="sscai.so")


def test_loadmodule_stays_reserved_for_sscontainer() -> None:
    with pytest.raises(SSConfigError, match="managed by sscontainer"):
        ShardConfig(port=7001, extra={"loadmodule": "/x.so"})


def test_the_orchestrator_image_links_the_module_where_configs_name_it() -> None:
    spec = orchestrator_spec()
    commands = [c for stage in spec.stages for step in stage.instructions
                for c in getattr(step, "commands", lambda: ())()]
    links = [c for c in commands if IMAGE_MODULE_PATH in c]
    assert links and "-m sscontainer.db.redisai" in links[0][2]
