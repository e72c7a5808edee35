"""The `sscontainer` command as a user runs it: real subprocesses, real exit codes."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

import sscontainer

REPO = Path(__file__).resolve().parents[2]


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sscontainer.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def example(tmp_path: Path, name: str) -> Path:
    dst = tmp_path / name
    shutil.copytree(REPO / "examples" / name, dst, ignore=shutil.ignore_patterns("runs"))
    return dst / "experiment.yaml"


def test_version() -> None:
    result = cli("--version")
    assert result.returncode == 0
    assert sscontainer.__version__ in result.stdout


def test_thermo_example_runs(tmp_path: Path) -> None:
    result = cli("run", str(example(tmp_path, "thermo")))
    assert result.returncode == 0, result.stderr
    run_dir = tmp_path / "thermo" / "runs" / "thermo" / "model"
    assert (run_dir / "params_inputs.txt").read_text() == "THERMO = 1\nSTEPS = 10\n"
    assert "energy=5.0" in (run_dir / "model.out").read_text()
    assert "Completed" in result.stdout


def test_ensemble_example_runs_after_dependency(tmp_path: Path) -> None:
    result = cli("run", "--quiet", str(example(tmp_path, "ensemble")))
    assert result.returncode == 0, result.stderr
    out = (tmp_path / "ensemble" / "runs" / "sweep-demo" / "analyze" / "analyze.out").read_text()
    assert len(out.strip().splitlines()) == 6  # every member had finished before analyze ran
    assert "running:" not in result.stdout


def test_rerun_replaces_unchanged_runs_and_keeps_edits(tmp_path: Path) -> None:
    path = example(tmp_path, "thermo")
    assert cli("run", "-q", str(path)).returncode == 0
    again = cli("run", "-q", str(path))  # nothing edited: the run is simply done again
    assert again.returncode == 0, again.stderr
    run_dir = next(p.parent for p in (tmp_path / "thermo" / "runs").rglob("params_inputs.txt")
                   if ".sscontainer" not in p.parts)
    (run_dir / "notes.txt").write_text("my notes")
    refused = cli("run", "-q", str(path))
    assert refused.returncode == 2
    assert "notes.txt" in refused.stderr and "--overwrite" in refused.stderr
    assert "Traceback" not in refused.stderr
    kept = cli("run", "-q", "--overwrite", str(path))
    assert kept.returncode == 0, kept.stderr
    saved = list((tmp_path / "thermo").rglob(".sscontainer/kept/*/**/notes.txt"))
    assert [p.read_text() for p in saved] == ["my notes"]
    assert not (run_dir / "notes.txt").exists()


def write(tmp_path: Path, doc: object) -> str:
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def test_failure_exits_1_and_skips_dependents(tmp_path: Path) -> None:
    path = write(tmp_path, {
        "name": "e",
        "models": [
            {"name": "crash", "exe": "python3", "args": ["-c", "import sys; sys.exit(4)"]},
            {"name": "later", "exe": "python3", "args": ["-c", "pass"], "after": ["crash"]},
        ],
    })
    result = cli("run", path)
    assert result.returncode == 1
    assert "crash: Failed (exit 4)" in result.stdout
    assert "later: NeverStarted" in result.stdout
    assert not (tmp_path / "e" / "later" / "later.out").exists()


def test_schema_errors_one_line_each_exit_2(tmp_path: Path) -> None:
    path = write(tmp_path, {"name": "e", "models": [{"name": "a/b", "exe": "python3", "params": {"X": [1]}}]})
    result = cli("run", path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2
    assert all(line.startswith("sscontainer: error: ") for line in lines)
    assert any("models[0].name" in line for line in lines)
    assert any("models[0].params.X" in line for line in lines)
    assert "Traceback" not in result.stderr


def test_missing_file_and_bad_option(tmp_path: Path) -> None:
    missing = cli("run", str(tmp_path / "nope.yaml"))
    assert missing.returncode == 2 and "no such file" in missing.stderr
    bad = cli("run", "--launcher", "pbs", str(tmp_path / "nope.yaml"))
    assert bad.returncode == 2


def test_preview_and_generate(tmp_path: Path) -> None:
    path = example(tmp_path, "thermo")
    preview = cli("preview", str(path))
    assert preview.returncode == 0
    assert "simulation.py" in preview.stdout and "Working Directory:" in preview.stdout
    assert not (tmp_path / "thermo" / "runs").exists()  # preview runs and writes nothing
    generated = cli("generate", str(path))
    assert generated.returncode == 0
    run_dir = tmp_path / "thermo" / "runs" / "thermo" / "model"
    assert (run_dir / "params_inputs.txt").exists()
    assert not (run_dir / "model.out").exists()


def test_generate_writes_image_specs_and_convert_round_trips(tmp_path: Path) -> None:
    path = example(tmp_path, "producer_consumer")
    result = cli("generate", str(path))
    assert result.returncode == 0, result.stderr
    images = tmp_path / "producer_consumer" / "runs" / "producer-consumer" / "images"
    assert sorted(p.name for p in images.iterdir()) == ["model", "orchestrator"]
    dockerfile = images / "model" / "Dockerfile"
    assert (images / "model" / "model.def").exists()
    converted = tmp_path / "model.def"
    done = cli("convert", str(dockerfile), "--to", "apptainer", "-o", str(converted))
    assert done.returncode == 0, done.stderr
    text = converted.read_text()
    assert "Bootstrap:" in text and "%post" in text
    bad = cli("convert", str(tmp_path / "missing"), "--to", "docker")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
