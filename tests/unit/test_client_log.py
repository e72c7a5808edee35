"""log_data levels and destinations (SR_LOG_LEVEL, SR_LOG_FILE)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from sscontainer.client import LLDebug, LLDeveloper, LLInfo, LLQuiet, LogLevel
from sscontainer.client.log import ClientLogger
from sscontainer.errors import SSConfigError

_names = itertools.count()


def _logger(env: dict[str, str]) -> ClientLogger:
    return ClientLogger(f"test-client-log-{next(_names)}", env)


def test_star_import_gives_the_levels() -> None:
    namespace: dict[str, object] = {}
    exec("from sscontainer.client import *", namespace)  # noqa: S102 - what the guide does
    for name in ("Client", "Dataset", "LLQuiet", "LLInfo", "LLDebug", "LLDeveloper"):
        assert name in namespace
    assert LLQuiet < LLInfo < LLDebug < LLDeveloper
    assert LogLevel(2) is LLInfo


def test_info_threshold_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    log = _logger({})
    log.log(LLInfo, "shown")
    log.log(LLDebug, "hidden")
    out = capsys.readouterr().out
    assert "shown" in out and "hidden" not in out
    assert out.startswith(log.name + "@")


def test_levels_from_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "client.log"
    log = _logger({"SR_LOG_LEVEL": "developer", "SR_LOG_FILE": str(path)})
    log.log(LLDeveloper, "deep")
    log.log(LLInfo, "info")
    text = path.read_text()
    assert "deep" in text and "info" in text
    quiet_path = tmp_path / "quiet.log"
    quiet = _logger({"SR_LOG_LEVEL": "QUIET", "SR_LOG_FILE": str(quiet_path)})
    quiet.log(LLQuiet, "nothing")
    quiet.log(LLInfo, "nothing either")
    assert quiet_path.read_text() == ""


def test_bad_levels() -> None:
    with pytest.raises(SSConfigError, match="SR_LOG_LEVEL"):
        _logger({"SR_LOG_LEVEL": "loud"})
    with pytest.raises(SSConfigError, match="LLInfo"):
        _logger({}).log(7, "x")
