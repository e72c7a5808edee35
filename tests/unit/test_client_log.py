"""Logging: the same lines, in the same places, as the real smartredis 0.6.1 writes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.client_diff import require_smartredis

SCRIPT = """
from {module} import *
log_data("mod", LLInfo, "msg info")
log_data("mod", LLDebug, "msg debug")
log_warning("mod", LLInfo, "msg warned")
log_error("mod", LLQuiet, "msg quiet error")
LogContext("ctx").log_data(LLDeveloper, "msg developer")
Dataset("ds").log_warning(LLInfo, "msg from a dataset")
"""


def lines(module: str, level: str, log_file: Path) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SR_")}
    env.update(SR_LOG_LEVEL=level, SR_LOG_FILE=str(log_file))
    subprocess.run([sys.executable, "-c", SCRIPT.format(module=module)], env=env, check=True,
                   timeout=60)
    text = log_file.read_text()
    log_file.unlink()
    masked = [re.sub(r"@\d\d-\d\d-\d\d:", "@HH-MM-SS:", line) for line in text.splitlines()]
    return [line for line in masked if "msg" in line]  # SmartRedis also logs its own steps


@pytest.mark.parametrize("level", ["quiet", "info", "debug", "developer", "INFO"])
def test_same_lines_at_every_level(level: str, tmp_path: Path) -> None:
    require_smartredis()
    theirs = lines("smartredis", level, tmp_path / "real.log")
    ours = lines("sscontainer.client", level, tmp_path / "ours.log")
    assert ours == theirs
    assert ours  # LLQuiet messages are written even at level quiet (SmartRedis's rule)


def test_bad_level_is_an_error(tmp_path: Path) -> None:
    env = dict(os.environ, SR_LOG_LEVEL="chatty", SR_LOG_FILE=str(tmp_path / "x.log"))
    code = ("from sscontainer.client import *\n"
            "try:\n    log_data('c', LLInfo, 'x')\nexcept error.RedisRuntimeError as e:\n"
            "    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True, timeout=60).stdout
    assert "Unrecognized logging level: chatty" in out
