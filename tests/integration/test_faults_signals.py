"""Nothing left running: the driver gets SIGINT, SIGTERM, SIGHUP, or SIGKILL and then
`sscontainer stop`; every process the experiment started is counted afterwards: zero.

The experiment has a database (its shard and ML worker), a colocated model (its
supervisor, server and application), a model whose children escape its process group
(one calls setsid, one is orphaned by a double fork) and members that ignore SIGTERM.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.db_fixtures import require_server
from tests.integration.fault_support import (
    PY,
    driver_env,
    hostile_experiment,
    kill_all,
    live_processes,
    new_tag,
    settle_count,
    start_driver,
    wait_ready,
)

pytestmark = pytest.mark.timeout(240)


@pytest.mark.parametrize(
    ("sig", "code", "said"),
    [
        (signal.SIGINT, 130, "interrupted"),
        (signal.SIGTERM, 128 + signal.SIGTERM, "terminated by SIGTERM"),
        (signal.SIGHUP, 128 + signal.SIGHUP, "terminated by SIGHUP"),
    ],
    ids=["SIGINT", "SIGTERM", "SIGHUP"],
)
def test_a_signal_to_the_driver_leaves_no_process(
    tmp_path: Path, sig: signal.Signals, code: int, said: str
) -> None:
    require_server()
    yaml_path, exp_dir, ready = hostile_experiment(tmp_path)
    tag = new_tag()
    driver = start_driver(tmp_path, yaml_path, tag)
    try:
        wait_ready(exp_dir, ready, driver)
        running = live_processes(tmp_path, tag)
        # driver, shard, ML worker, colocated supervisor + server + app, escaper and its
        # two escaped children, two members: at least 11
        assert len(running) >= 11, running
        driver.send_signal(sig)
        out, err = driver.communicate(timeout=120)
        assert driver.returncode == code, err
        assert said in err and "Traceback" not in err
        left = settle_count(tmp_path, tag)
        print(f"{sig.name}: {len(running)} processes before, {len(left)} after")
        assert left == []
        # the members ignoring SIGTERM were waited for together, once, then killed
        assert err.count("waiting for") == 1 and "did not end on SIGTERM" in err
        assert "stubborn_0" in out and "Cancelled" in out
    finally:
        kill_all(tmp_path, tag)
        driver.kill()
        driver.wait()


def test_sigkill_then_stop_leaves_no_process(tmp_path: Path) -> None:
    require_server()
    yaml_path, exp_dir, ready = hostile_experiment(tmp_path)
    tag = new_tag()
    driver = start_driver(tmp_path, yaml_path, tag)
    try:
        wait_ready(exp_dir, ready, driver)
        running = live_processes(tmp_path, tag)
        driver.kill()  # nothing can run in the driver now: its jobs outlive it
        driver.wait()
        orphans = live_processes(tmp_path, tag)
        assert len(orphans) >= len(running) - 1, (running, orphans)
        stop = subprocess.run(
            [PY, "-m", "sscontainer.cli", "stop", str(yaml_path)], capture_output=True,
            text=True, timeout=120, env=driver_env(tmp_path, "not-" + tag),
        )
        assert stop.returncode == 0, stop.stderr
        assert "Traceback" not in stop.stderr
        left = settle_count(tmp_path, tag)
        print(f"SIGKILL + stop: {len(orphans)} processes after the kill, {len(left)} after stop")
        assert left == []
        status = subprocess.run(
            [PY, "-m", "sscontainer.cli", "status", str(exp_dir)], capture_output=True,
            text=True, timeout=60,
        )
        rows = {line.split("|")[2].strip(): line for line in status.stdout.splitlines()[2:]}
        assert "Cancelled" in rows["colo"] and "Cancelled" in rows["stubborn_1"]
    finally:
        kill_all(tmp_path, tag)


def test_stop_from_another_shell_reads_cancelled_in_both(tmp_path: Path) -> None:
    require_server()
    yaml_path, exp_dir, ready = hostile_experiment(tmp_path, members=1)
    tag = new_tag()
    driver = start_driver(tmp_path, yaml_path, tag)
    try:
        wait_ready(exp_dir, ready, driver)
        stop = subprocess.run(
            [PY, "-m", "sscontainer.cli", "stop", "-q", str(yaml_path)], capture_output=True,
            text=True, timeout=120,
        )
        assert stop.returncode == 0, stop.stderr
        out, err = driver.communicate(timeout=120)
        assert driver.returncode == 1  # not every entity completed
        for name in ("escaper", "colo", "stubborn_0"):
            assert f"{name}: Cancelled" in out, out
        status = subprocess.run(
            [PY, "-m", "sscontainer.cli", "status", str(yaml_path)], capture_output=True,
            text=True, timeout=60,
        )
        rows = {line.split("|")[2].strip(): line for line in status.stdout.splitlines()[2:]}
        assert all("Cancelled" in rows[n] for n in ("escaper", "colo", "stubborn_0")), rows
        assert settle_count(tmp_path, tag) == []
    finally:
        kill_all(tmp_path, tag)
        driver.kill()
        driver.wait()


def test_nohup_keeps_the_run_going(tmp_path: Path) -> None:
    """A driver started with SIGHUP ignored (nohup) is not stopped by it."""
    require_server()
    yaml_path, exp_dir, ready = hostile_experiment(tmp_path, members=1)
    tag = new_tag()
    driver = subprocess.Popen(
        [PY, "-c", "import signal, sys; signal.signal(signal.SIGHUP, signal.SIG_IGN); "
         "from sscontainer.cli.main import main; sys.argv[1:] = ['run', sys.argv[1]]; main()",
         str(yaml_path)],
        env=driver_env(tmp_path, tag), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True,
    )
    try:
        wait_ready(exp_dir, ready, driver)
        driver.send_signal(signal.SIGHUP)
        with pytest.raises(subprocess.TimeoutExpired):
            driver.wait(timeout=2)
        driver.send_signal(signal.SIGTERM)
        driver.communicate(timeout=120)
        assert settle_count(tmp_path, tag) == []
    finally:
        kill_all(tmp_path, tag)
        driver.kill()
        driver.wait()


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-v"]))


def test_sigterm_to_an_api_driver_leaves_no_process(tmp_path: Path) -> None:
    """A Python driver (no CLI, no subreaper) ends the same way: SIGTERM stops it all."""
    require_server()
    from sscontainer.db.address import find_free_port
    from tests.integration.fault_support import SETSID_CHILD, SLEEPER

    script = tmp_path / "driver.py"
    script.write_text(
        "import sys\n"
        "from sscontainer import Experiment\n"
        f"exp = Experiment('api', exp_path={str(tmp_path / 'exp')!r})\n"
        f"db = exp.create_database(port={find_free_port()})\n"
        f"escaper = exp.create_model('escaper', exp.create_run_settings(sys.executable, ['-c', {SETSID_CHILD!r}]))\n"
        f"colo = exp.create_model('colo', exp.create_run_settings(sys.executable, ['-c', {SLEEPER!r}]))\n"
        "colo.colocate_db_uds()\n"
        "exp.generate(escaper, colo)\n"
        "exp.start(db)\n"
        "exp.start(escaper, colo, block=True)\n"
    )
    tag = new_tag()
    driver = subprocess.Popen([PY, str(script)], env=driver_env(tmp_path, tag),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              start_new_session=True)
    try:
        wait_ready(tmp_path / "exp", 2, driver)
        running = live_processes(tmp_path, tag)
        driver.send_signal(signal.SIGTERM)
        _out, err = driver.communicate(timeout=120)
        assert driver.returncode == 128 + signal.SIGTERM, err
        assert "Traceback" not in err
        left = settle_count(tmp_path, tag)
        print(f"API driver, SIGTERM: {len(running)} processes before, {len(left)} after")
        assert left == []
    finally:
        kill_all(tmp_path, tag)
        driver.kill()
        driver.wait()


def test_sighup_with_the_terminal_gone_still_stops_everything(tmp_path: Path) -> None:
    """After a hang-up the driver's output goes nowhere (writes fail): the stop goes on."""
    require_server()
    yaml_path, exp_dir, ready = hostile_experiment(tmp_path, members=1)
    tag = new_tag()
    driver = start_driver(tmp_path, yaml_path, tag)
    try:
        wait_ready(exp_dir, ready, driver)
        assert driver.stdout is not None and driver.stderr is not None
        driver.stdout.close()  # every write the driver makes from now on fails (EPIPE)
        driver.stderr.close()
        driver.send_signal(signal.SIGHUP)
        assert driver.wait(timeout=120) == 128 + signal.SIGHUP
        assert settle_count(tmp_path, tag) == []
    finally:
        kill_all(tmp_path, tag)
        driver.kill()
        driver.wait()
