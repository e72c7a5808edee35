"""Real processes on the local launcher: outputs, return codes, stop, interrupts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from sscontainer import Experiment, Status
from sscontainer.errors import GenerationError

PY = sys.executable


def test_model_outputs_and_return_code(tmp_path: Path) -> None:
    exp = Experiment("exp", exp_path=str(tmp_path / "exp"))
    ok = exp.create_model(
        "ok", exp.create_run_settings(PY, ["-c", "import sys; print('to out'); print('to err', file=sys.stderr)"])
    )
    bad = exp.create_model("bad", exp.create_run_settings(PY, ["-c", "import sys; sys.exit(3)"]))
    exp.generate(ok, bad)
    exp.start(ok, bad, block=True)
    assert exp.get_status(ok, bad) == [Status.COMPLETED, Status.FAILED]
    assert exp.get_returncodes(ok, bad) == [0, 3]
    assert (tmp_path / "exp" / "ok" / "ok.out").read_text() == "to out\n"
    assert (tmp_path / "exp" / "ok" / "ok.err").read_text() == "to err\n"
    assert exp.finished(ok)
    table = exp.summary()
    assert "| ok " in table and "Completed" in table and "Failed" in table


def test_start_without_generate_makes_the_entity_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SmartSim 0.8: a model runs in <exp_path>/<name> (made by start), or in its path=
    monkeypatch.chdir(tmp_path)
    exp = Experiment("exp")
    model = exp.create_model("here", exp.create_run_settings(PY, ["-c", "import os; print(os.getcwd())"]))
    assert not (tmp_path / "exp" / "here").exists()
    exp.start(model)
    assert model.path == str(tmp_path / "exp" / "here")
    assert (tmp_path / "exp" / "here" / "here.out").read_text().strip() == model.path
    other = exp.create_model("there", exp.create_run_settings(PY, ["-c", "pass"]), path="rel/dir")
    exp.start(other)
    assert other.path == str(tmp_path / "rel" / "dir")
    assert (tmp_path / "rel" / "dir" / "there.out").exists()
    ens = exp.create_ensemble("ens", run_settings=exp.create_run_settings(PY, ["-c", "pass"]), replicas=2)
    exp.start(ens)
    assert [m.path for m in ens] == [str(tmp_path / "exp" / "ens" / f"ens_{i}") for i in range(2)]
    assert all((Path(m.path) / f"{m.name}.out").exists() for m in ens)


def test_env_and_key_variables(tmp_path: Path) -> None:
    exp = Experiment("exp", exp_path=str(tmp_path))
    code = "import os; print(os.environ.get('SSKEYOUT'), os.environ.get('SSKEYIN'), os.environ['MINE'])"
    producer = exp.create_model("producer", exp.create_run_settings(PY, ["-c", code], env_vars={"MINE": "a b$c"}))
    producer.enable_key_prefixing()
    consumer = exp.create_model("consumer", exp.create_run_settings(PY, ["-c", code], env_vars={"MINE": "x"}))
    consumer.register_incoming_entity(producer)
    exp.generate(producer, consumer)
    exp.start(producer, consumer)
    assert (tmp_path / "producer" / "producer.out").read_text() == "producer None a b$c\n"
    assert (tmp_path / "consumer" / "consumer.out").read_text() == "None producer x\n"


def test_stop_cancels_the_whole_process_group(tmp_path: Path) -> None:
    exp = Experiment("exp", exp_path=str(tmp_path))
    # the model starts a grandchild; stop must take both down
    script = tmp_path / "spawn.py"
    script.write_text(textwrap.dedent("""
        import subprocess, sys, time
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
        print(child.pid, flush=True)
        time.sleep(120)
    """))
    model = exp.create_model("sleeper", exp.create_run_settings(PY, [str(script)]))
    exp.generate(model)
    exp.start(model, block=False)
    out = tmp_path / "sleeper" / "sleeper.out"
    deadline = time.monotonic() + 20
    while not out.read_text().strip() and time.monotonic() < deadline:
        time.sleep(0.05)
    grandchild = int(out.read_text().strip())
    assert exp.get_status(model) == [Status.RUNNING]
    exp.stop(model)
    assert exp.get_status(model) == [Status.CANCELLED]
    assert not _alive(grandchild)


def test_generate_refuses_to_overwrite(tmp_path: Path) -> None:
    exp = Experiment("exp", exp_path=str(tmp_path))
    model = exp.create_model("m", exp.create_run_settings(PY, ["-c", "pass"]))
    exp.generate(model)
    (tmp_path / "m" / "keep.txt").write_text("precious")
    with pytest.raises(GenerationError, match="overwrite"):
        exp.generate(model)
    assert (tmp_path / "m" / "keep.txt").read_text() == "precious"
    exp.generate(model, overwrite=True)
    assert not (tmp_path / "m" / "keep.txt").exists()


def test_generation_copies_links_and_configures(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "conf" / "sub").mkdir(parents=True)
    (src / "data.bin").write_bytes(b"\x00\x01")
    (src / "big.dat").write_text("large")
    (src / "conf" / "a.txt").write_text("A=;A;")
    (src / "conf" / "sub" / "b.txt").write_text("B=;B;")
    exp = Experiment("exp", exp_path=str(tmp_path / "exp"))
    ens = exp.create_ensemble(
        "ens", params={"A": [1, 2], "B": ["$(x)"]}, run_settings=exp.create_run_settings(PY)
    )
    ens.attach_generator_files(
        to_copy=[str(src / "data.bin")], to_symlink=[str(src / "big.dat")], to_configure=[str(src / "conf")]
    )
    exp.generate(ens)
    for i, a in enumerate(["1", "2"]):
        run = tmp_path / "exp" / "ens" / f"ens_{i}"
        assert (run / "data.bin").read_bytes() == b"\x00\x01"
        assert (run / "big.dat").is_symlink() and os.readlink(run / "big.dat") == str(src / "big.dat")
        assert (run / "a.txt").read_text() == f"A={a}"
        assert (run / "sub" / "b.txt").read_text() == "B=$(x)"


def test_working_directory_is_made_or_clearly_refused(tmp_path: Path) -> None:
    exp = Experiment("exp", exp_path=str(tmp_path))
    model = exp.create_model("m", exp.create_run_settings(PY), path=str(tmp_path / "nowhere"))
    exp.start(model)  # SmartSim makes a missing directory
    assert (tmp_path / "nowhere" / "m.out").exists()
    (tmp_path / "a_file").write_text("")
    bad = exp.create_model("bad", exp.create_run_settings(PY), path=str(tmp_path / "a_file"))
    with pytest.raises(FileExistsError, match="is a file"):
        exp.start(bad)


def test_many_members_complete(tmp_path: Path) -> None:
    exp = Experiment("exp", exp_path=str(tmp_path))
    ens = exp.create_ensemble(
        "fan", run_settings=exp.create_run_settings(PY, ["-c", "print('hi')"]), replicas=64
    )
    exp.generate(ens)
    exp.start(ens)
    assert set(exp.get_status(ens)) == {Status.COMPLETED}
    assert all((Path(m.path) / f"{m.name}.out").read_text() == "hi\n" for m in ens)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purposes
    with open(f"/proc/{pid}/stat") as handle:
        return handle.read().split(")")[-1].split()[0] != "Z"


def test_sigint_to_driver_leaves_no_child(tmp_path: Path) -> None:
    driver = tmp_path / "driver.py"
    driver.write_text(textwrap.dedent(f"""
        import sys
        from sscontainer import Experiment
        exp = Experiment("exp", exp_path={str(tmp_path / 'exp')!r})
        ens = exp.create_ensemble("sleepers", replicas=3, run_settings=exp.create_run_settings(
            sys.executable, ["-c", "import os, time; print(os.getpid(), flush=True); time.sleep(120)"]))
        exp.generate(ens)
        exp.start(ens, block=True)
    """))
    proc = subprocess.Popen([sys.executable, str(driver)])
    outs = [tmp_path / "exp" / "sleepers" / f"sleepers_{i}" / f"sleepers_{i}.out" for i in range(3)]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not all(o.exists() and o.read_text().strip() for o in outs):
        time.sleep(0.05)
    pids = [int(o.read_text()) for o in outs]
    assert all(_alive(p) for p in pids)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) != 0
    assert not any(_alive(p) for p in pids)
