"""Issue 13's audit, as a user and an attacker would run it: nothing lost, the right
process signalled, the cause shown, one line and exit 2 for bad input."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from sscontainer import Experiment
from sscontainer.db.address import find_free_port
from tests.integration.db_fixtures import require_server

PY = sys.executable
REPO = Path(__file__).resolve().parents[2]


def cli(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PY, "-m", "sscontainer.cli", *args], capture_output=True, text=True, cwd=cwd,
        timeout=timeout,
    )


def write(folder: Path, doc: Any, name: str = "experiment.yaml") -> Path:
    path = folder / name
    path.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc))
    return path


def one_line_error(result: subprocess.CompletedProcess[str], expected: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("sscontainer: error")]
    assert len(errors) == 1 and expected in errors[0], result.stderr


# --- data lost ---------------------------------------------------------------------------
def test_colocated_unix_socket_naming_an_existing_file_leaves_it(tmp_path: Path) -> None:
    precious = tmp_path / "thesis.tex"
    precious.write_text("three years of work")
    doc = {"name": "e", "models": [{"name": "m", "exe": PY, "args": ["-c", "pass"],
                                    "colocated_db": {"unix_socket": str(precious)}}]}
    result = cli("run", str(write(tmp_path, doc)))
    one_line_error(result, "exists and is not a socket")
    assert precious.read_text() == "three years of work"


@pytest.mark.parametrize("overwrite", [False, True], ids=["plain", "overwrite"])
def test_a_model_named_like_a_project_file_never_replaces_it(
    tmp_path: Path, overwrite: bool
) -> None:
    (tmp_path / "sim.py").write_text("print('the simulation')")
    git = tmp_path / ".git"
    (git / "refs" / "heads").mkdir(parents=True)
    (git / "HEAD").write_text("ref: refs/heads/main\n")
    for name in ("sim.py", ".git"):
        doc = {"name": "e", "path": ".", "models": [{"name": name, "exe": PY, "args": ["-c", "1"]}]}
        flags = ["--overwrite"] if overwrite else []
        result = cli("run", *flags, str(write(tmp_path, doc)))
        one_line_error(result, "sscontainer did not make it")
    assert (tmp_path / "sim.py").read_text() == "print('the simulation')"
    assert (git / "HEAD").read_text() == "ref: refs/heads/main\n" and (git / "refs").is_dir()


@pytest.mark.parametrize("name", [".sscontainer", "images"])
def test_names_of_sscontainers_own_directories_are_refused(tmp_path: Path, name: str) -> None:
    doc = {"name": "e", "models": [{"name": name, "exe": PY}]}
    one_line_error(cli("run", str(write(tmp_path, doc))), "reserved")


def test_generate_never_writes_into_a_projects_own_images_directory(tmp_path: Path) -> None:
    (tmp_path / "images" / "model").mkdir(parents=True)
    (tmp_path / "images" / "model" / "Dockerfile").write_text("FROM my-own-base\n")
    doc = {"name": "e", "path": "out", "models": [{"name": "m", "exe": PY}]}
    assert cli("generate", "-q", str(write(tmp_path, doc))).returncode == 0  # elsewhere: fine
    doc["path"] = "."
    one_line_error(cli("generate", str(write(tmp_path, doc))), "sscontainer did not make it")
    assert (tmp_path / "images" / "model" / "Dockerfile").read_text() == "FROM my-own-base\n"
    assert not (tmp_path / "m").exists()  # refused before any run directory was written


def test_a_rerun_reports_this_runs_outcome_not_the_last(tmp_path: Path) -> None:
    flag = tmp_path / "fail-now"
    doc = {"name": "e", "models": [
        {"name": "m", "exe": PY, "args": ["-c", f"import os, sys; sys.exit(os.path.exists({str(flag)!r}))"]},
        {"name": "n", "exe": PY, "args": ["-c", "pass"], "after": ["m"]},
    ]}
    path = write(tmp_path, doc)
    assert cli("run", "-q", str(path)).returncode == 0
    flag.write_text("")
    assert cli("run", "-q", str(path)).returncode == 1
    rows = {line.split("|")[2].strip(): line for line in cli("status", str(path)).stdout.splitlines()[2:]}
    assert "Failed" in rows["m"] and "NeverStarted" in rows["n"]


def test_rerun_keeps_user_edits(tmp_path: Path) -> None:
    doc = {"name": "e", "models": [{"name": "m", "exe": PY, "args": ["-c", "print(1)"]}]}
    path = write(tmp_path, doc)
    assert cli("run", "-q", str(path)).returncode == 0
    assert cli("run", "-q", str(path)).returncode == 0  # unchanged: run again, no flag
    (tmp_path / "e" / "m" / "m.out").write_text("my annotated output")
    refused = cli("run", "-q", str(path))
    one_line_error(refused, "m.out")
    assert (tmp_path / "e" / "m" / "m.out").read_text() == "my annotated output"
    kept = cli("run", "-q", "--overwrite", str(path))
    assert kept.returncode == 0 and "kept your changed run directory" in kept.stderr
    [saved] = (tmp_path / "e" / ".sscontainer" / "kept").glob("*/m/m.out")
    assert saved.read_text() == "my annotated output"


def test_readme_command_works_twice(tmp_path: Path) -> None:
    require_server()
    example = tmp_path / "producer_consumer"
    shutil.copytree(REPO / "examples" / "producer_consumer", example,
                    ignore=shutil.ignore_patterns("runs"))
    text = (example / "experiment.yaml").read_text()
    (example / "experiment.yaml").write_text(text.replace("6379", str(find_free_port())))
    for _ in range(2):
        result = cli("run", "producer_consumer/experiment.yaml", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        rows = {line.split("|")[2].strip(): line for line in result.stdout.splitlines()
                if line.startswith("|") and "Name" not in line and "---" not in line}
        assert "Completed" in rows["orchestrator_0"]  # a database that served the run
        assert not any("MLWorker" in row for row in rows.values())  # no ML here


# --- the right process ---------------------------------------------------------------------
def _sleeper() -> subprocess.Popen[bytes]:
    return subprocess.Popen([PY, "-c", "import time; time.sleep(120)"], start_new_session=True)


def _manifest(exp: Path, entry: dict[str, Any]) -> None:
    (exp / ".sscontainer").mkdir(parents=True, exist_ok=True)
    base = {"name": "victim", "entity_type": "Model", "launcher": "local", "start_time": 0.0,
            "cwd": str(exp), "out": str(exp / "v.out"), "err": str(exp / "v.err")}
    data = {"experiment": "e", "entries": [{**base, **entry}]}
    (exp / ".sscontainer" / "manifest.json").write_text(json.dumps(data))


@pytest.mark.parametrize(
    "labels",
    [None, {}, {"sscontainer.pid_start": "12345"}],
    ids=["no-labels-field", "no-label", "wrong-start-time"],
)
def test_stop_never_signals_an_unrelated_pid(
    tmp_path: Path, labels: dict[str, str] | None
) -> None:
    victim = _sleeper()
    try:
        _manifest(tmp_path, {"handle": str(victim.pid)}
                  if labels is None else {"handle": str(victim.pid), "labels": labels})
        result = cli("stop", str(tmp_path))
        assert result.returncode == 0, result.stderr
        time.sleep(0.5)
        assert victim.poll() is None  # still running: it was never ours
    finally:
        victim.kill()
        victim.wait()


@pytest.mark.parametrize("handle", ["1; rm -rf /", "-1", "abc", ""])
def test_a_garbage_handle_in_the_manifest_is_one_line(tmp_path: Path, handle: str) -> None:
    _manifest(tmp_path, {"handle": handle})
    for command in ("status", "stop"):
        one_line_error(cli(command, str(tmp_path)), "was edited or damaged")


# --- colocated sockets ----------------------------------------------------------------------
SOCKET_APP = (
    "import os, time\n"
    "open('ssdb', 'w').write(os.environ['SSDB'])\n"
    "time.sleep(1)\n"
)


def test_two_experiments_in_one_directory_get_private_sockets(tmp_path: Path) -> None:
    require_server()
    exps = [Experiment(name, exp_path=str(tmp_path)) for name in ("a", "b")]
    models = []
    for exp in exps:
        model = exp.create_model("m" if exp.name == "a" else "n",
                                 exp.create_run_settings(PY, ["-c", SOCKET_APP]))
        model.colocate_db_uds()
        exp.generate(model)
        models.append(model)
    for exp, model in zip(exps, models, strict=True):
        exp.start(model, block=False)
    for exp in exps:
        exp.poll(interval=1, verbose=False)
    sockets = [Path(m.path, "ssdb").read_text().removeprefix("unix://") for m in models]
    assert sockets[0] != sockets[1]
    for socket_path in sockets:
        folder = Path(socket_path).parent
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert str(folder).startswith(str(tmp_path)) or folder.name == f"sscontainer-{os.getuid()}"


def test_wide_socket_permissions_are_warned_about(tmp_path: Path) -> None:
    doc = {"name": "e", "models": [{"name": "m", "exe": PY, "args": ["-c", "1"],
                                    "colocated_db": {"socket_permissions": 777}}]}
    result = cli("preview", str(write(tmp_path, doc)))
    assert result.returncode == 0
    assert "socket_permissions 777 let users other than you connect" in result.stderr


# --- the CLI shows the cause --------------------------------------------------------------------
def test_a_busy_port_names_the_servers_reason(tmp_path: Path) -> None:
    require_server()
    import socket

    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    try:
        doc = {"name": "e", "database": {"port": port}, "models": [{"name": "m", "exe": PY}]}
        result = cli("run", str(write(tmp_path, doc)))
    finally:
        holder.close()
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "Address already in use" in result.stderr


def test_a_failed_entity_shows_its_err_file_and_last_line_and_status_lists_all(
    tmp_path: Path,
) -> None:
    doc = {"name": "e", "models": [
        {"name": "m", "exe": PY, "args": ["-c", "import sys; sys.exit('boom: bad input')"]},
        {"name": "n", "exe": PY, "args": ["-c", "pass"], "after": ["m"]},
    ]}
    path = write(tmp_path, doc)
    result = cli("run", "-q", str(path))
    assert result.returncode == 1
    assert str(tmp_path / "e" / "m" / "m.err") in result.stdout
    assert "boom: bad input" in result.stdout
    status = cli("status", str(path))  # the YAML file, not the directory
    assert status.returncode == 0, status.stderr
    rows = {line.split("|")[2].strip(): line for line in status.stdout.splitlines()[2:]}
    assert "Failed" in rows["m"] and "NeverStarted" in rows["n"]
    stop = cli("stop", str(path))
    assert stop.returncode == 0 and "stopped 0 running job(s)" in stop.stdout


def test_status_of_something_that_is_not_an_experiment(tmp_path: Path) -> None:
    one_line_error(cli("status", str(tmp_path / "nothing")), "no such directory or file")
    (tmp_path / "notes.txt").write_text("hello")
    one_line_error(cli("status", str(tmp_path / "notes.txt")), "expected a mapping")


# --- the environment changes under a run ----------------------------------------------------
def _can_bind_mount(folder: Path) -> bool:
    done = subprocess.run(["mount", "--bind", str(folder), str(folder)], capture_output=True)
    if done.returncode != 0:
        return False
    subprocess.run(["umount", str(folder)], check=True)
    return True


def test_a_read_only_experiment_directory_during_a_run(tmp_path: Path) -> None:
    from tests.conftest import require_service

    require_service(os.geteuid() == 0 and shutil.which("mount") is not None
                    and _can_bind_mount(tmp_path), "a read-only bind mount",
                    "run as root with CAP_SYS_ADMIN (as CI does)")
    doc = {"name": "e", "models": [
        {"name": "first", "exe": PY, "args": ["-c", "import time; open('ready','w'); time.sleep(2)"]},
        {"name": "second", "exe": PY, "args": ["-c", "pass"], "after": ["first"]},
    ]}
    path = write(tmp_path, doc)
    exp = tmp_path / "e"
    driver = subprocess.Popen([PY, "-m", "sscontainer.cli", "run", str(path)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    mounted = False
    try:
        deadline = time.monotonic() + 30
        while not (exp / "first" / "ready").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        subprocess.run(["mount", "--bind", str(exp), str(exp)], check=True)
        mounted = True
        subprocess.run(["mount", "-o", "remount,ro,bind", str(exp)], check=True)
        out, err = driver.communicate(timeout=60)
    finally:
        if mounted:
            subprocess.run(["umount", str(exp)], check=False)
        driver.kill()
    assert "Traceback" not in err
    assert driver.returncode == 2, err
    assert "warning: cannot update" in err and "Read-only file system" in err


def test_convert_of_a_binary_file_and_to_an_unwritable_path(tmp_path: Path) -> None:
    binary = tmp_path / "Dockerfile"
    binary.write_bytes(Path(sys.executable).read_bytes()[:4096])
    one_line_error(cli("convert", str(binary), "--to", "apptainer"), "binary file")
    recipe = tmp_path / "Dockerfile.ok"
    recipe.write_text("FROM debian:bookworm-slim\nRUN true\n")
    one_line_error(cli("convert", str(recipe), "--to", "apptainer", "-o", "/proc/x.def"),
                   "cannot write /proc/x.def")


def test_deep_yaml_and_duplicate_keys_are_one_line(tmp_path: Path) -> None:
    deep = write(tmp_path, "name: e\nmodels: " + "[" * 20000 + "]" * 20000, "deep.yaml")
    one_line_error(cli("preview", str(deep)), "nested more than 64 levels")
    dup = write(tmp_path, "name: e\nmodels: []\nname: f\n", "dup.yaml")
    one_line_error(cli("preview", str(dup)), "appears twice")


def test_huge_replicas_fail_fast_naming_the_limit(tmp_path: Path) -> None:
    doc = {"name": "e", "ensembles": [{"name": "s", "exe": PY, "replicas": 10_000_000}]}
    result = cli("run", str(write(tmp_path, doc)), timeout=30)
    one_line_error(result, "SSCONTAINER_MAX_MEMBERS")


def test_an_internal_error_is_one_line_unless_asked(tmp_path: Path) -> None:
    """The last net: an unexpected exception prints one line (a bug to report)."""
    doc = {"name": "e", "models": [{"name": "m", "exe": PY}]}
    path = write(tmp_path, doc)
    code = ("import sys; import sscontainer.cli.loader as l\n"
            "def broken(*a, **k): raise KeyError('x')\n"
            "l.validate_document = broken\n"
            "import sscontainer.cli.main as m; m.load_plan.__globals__['validate_document'] = broken\n"
            "sys.argv = ['sscontainer', 'preview', sys.argv[1]]; m.main()")
    result = subprocess.run([PY, "-c", code, str(path)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "internal error KeyError" in result.stderr
