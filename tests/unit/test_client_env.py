"""SmartRedis defaults a launched entity gets (DESIGN.md's environment contract)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sscontainer import Experiment
from sscontainer.entities.client_env import SOCKET_TIMEOUT_MS, smartredis_defaults
from sscontainer.entities.steps import model_step


def test_socket_timeout_for_every_database_suffix() -> None:
    env = {"SSDB": "127.0.0.1:1", "SSDB_two": "127.0.0.1:2", "SSDB_PASSWORD_two": "x"}
    assert smartredis_defaults(env, inherited={}) == {
        "SR_SOCKET_TIMEOUT": SOCKET_TIMEOUT_MS, "SR_SOCKET_TIMEOUT_two": SOCKET_TIMEOUT_MS,
    }


def test_the_drivers_value_is_passed_on() -> None:
    got = smartredis_defaults({}, ["colo"], inherited={"SR_SOCKET_TIMEOUT_colo": "5"})
    assert got == {"SR_SOCKET_TIMEOUT": SOCKET_TIMEOUT_MS, "SR_SOCKET_TIMEOUT_colo": "5"}


def test_a_run_setting_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SR_SOCKET_TIMEOUT", "SR_SOCKET_TIMEOUT_near"):  # the driver sets none
        monkeypatch.delenv(name, raising=False)
    exp = Experiment("env", exp_path=str(tmp_path))
    mine = exp.create_model("mine", exp.create_run_settings(
        "echo", env_vars={"SR_SOCKET_TIMEOUT": "1234"}))
    plain = exp.create_model("plain", exp.create_run_settings("echo"))
    colo = exp.create_model("colo", exp.create_run_settings("echo"))
    colo.colocate_db_uds(db_identifier="near")
    assert model_step(mine).env["SR_SOCKET_TIMEOUT"] == "1234"
    assert model_step(plain, {"SSDB": "127.0.0.1:1"}).env["SR_SOCKET_TIMEOUT"] == SOCKET_TIMEOUT_MS
    assert model_step(colo).env["SR_SOCKET_TIMEOUT_near"] == SOCKET_TIMEOUT_MS
