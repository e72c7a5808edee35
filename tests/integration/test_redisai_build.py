"""The package build compiles the module; the servers sscontainer uses load it."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from sscontainer.db.local import LocalDatabase
from sscontainer.db.redisai import MODULE_NAME
from tests.integration.redisai_support import module_db, raw, require_redis7

ROOT = Path(__file__).resolve().parents[2]


def _pip_wheel(out: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
        env=env, capture_output=True, text=True, timeout=600, check=False,
    )


@pytest.mark.slow
def test_the_wheel_carries_an_executable_module(tmp_path: Path) -> None:
    proc = _pip_wheel(tmp_path, dict(os.environ))
    assert proc.returncode == 0, proc.stderr
    (wheel,) = tmp_path.glob("sscontainer-*.whl")
    assert "-py3-none-linux_" in wheel.name  # platform-specific, any Python 3
    with zipfile.ZipFile(wheel) as archive:
        info = archive.getinfo("sscontainer/db/redisai/sscai.so")
        assert info.file_size > 10_000
        assert (info.external_attr >> 16) & 0o111  # pip installs it executable


@pytest.mark.slow
def test_a_missing_compiler_is_a_clear_build_error(tmp_path: Path) -> None:
    proc = _pip_wheel(tmp_path, {**os.environ, "CC": "no-such-compiler"})
    assert proc.returncode != 0
    assert "apt-get install gcc" in proc.stdout + proc.stderr


def _loaded(db: LocalDatabase) -> list[str]:
    conn = raw(db)
    try:
        return [m[b"name"].decode() if isinstance(m, dict) else "" for m in conn.module_list()]
    finally:
        conn.close()


def test_valkey_loads_the_module_and_answers() -> None:
    with module_db() as db:
        assert MODULE_NAME in _loaded(db)
        conn = raw(db)
        assert conn.execute_command("AI.TENSORSET", "t", "INT8", 2, "VALUES", 1, -2) == b"OK"
        assert conn.execute_command("AI.TENSORGET", "t", "VALUES") == [1, -2]


def test_a_plain_server_has_no_module() -> None:
    with module_db(redisai=False) as db:
        assert MODULE_NAME not in _loaded(db)


def test_debian_redis_server_7_loads_the_module() -> None:
    binary = require_redis7()
    with module_db(server_binary=binary) as db:
        assert MODULE_NAME in _loaded(db)
        conn = raw(db)
        assert conn.info("server")["redis_version"].startswith("7.0")
        assert conn.execute_command("AI.TENSORSET", "t", "FLOAT", 1, "VALUES", 2.5) == b"OK"
        assert conn.execute_command("AI.TENSORGET", "t", "VALUES") == [b"2.5"]


def test_load_arguments() -> None:
    from sscontainer.errors import DatabaseError

    with module_db(redisai_args={"MODEL_CHUNK_SIZE": "4096", "THREADS_PER_QUEUE": "2"}) as db:
        conn = raw(db)
        assert conn.execute_command("AI.CONFIG", "GET", "MODEL_CHUNK_SIZE") == 4096
        conn.close()
    with pytest.raises(DatabaseError, match="unknown load argument BOGUS"):
        with module_db(redisai_args={"BOGUS": "1"}):
            pass
    with pytest.raises(DatabaseError, match="WORKER_WAIT_MS needs a positive integer"):
        with module_db(redisai_args={"WORKER_WAIT_MS": "-5"}):
            pass
