"""examples/smartsim_driver: a SmartSim 0.8 driver (imports changed) runs end to end."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_service
from tests.integration.db_fixtures import free_port_block, require_server
from tests.integration.slurm_support import HOW, slurm_up

REPO = Path(__file__).resolve().parents[2]
DRIVER = REPO / "examples" / "smartsim_driver" / "driver.py"


def _torch() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def _server_pids(exp_dir: Path) -> list[int]:
    out = subprocess.run(["pgrep", "-f", str(exp_dir)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


@pytest.mark.parametrize("launcher", ["local", "slurm"])
def test_smartsim_driver_runs_unchanged(launcher: str, tmp_path: Path) -> None:
    require_server()
    require_service(_torch(), "torch", "pip install 'sscontainer[torch]'")
    env = {**os.environ}
    if launcher == "slurm":
        require_service(slurm_up(), "a Slurm cluster", HOW)
        # the driver runs host programs (sys.executable, its own scripts), as SmartSim does
        # under Slurm: no container, without a change to the driver
        env["SSCONTAINER_RUNTIME"] = "none"
    exp_dir = tmp_path / "runs"
    env.update({"DRIVER_DB_PORT": str(free_port_block(1)), "DRIVER_EXP_DIR": str(exp_dir),
                "DRIVER_ML": "1"})
    done = subprocess.run([sys.executable, str(DRIVER), launcher], capture_output=True, text=True,
                          timeout=600, env=env)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    out = done.stdout
    for i, thermo in enumerate((10, 20, 40)):
        assert f"sim_{i}: THERMO={thermo} published 4 steps" in out
        assert (exp_dir / "sim" / f"sim_{i}" / "params.txt").read_text() == f"THERMO = {thermo}\nSTEPS = 4\n"
    assert "colocated: colocated sum: 45 via unix" in out
    assert "analysis: maxima: [40.0, 80.0, 160.0]" in out
    assert "normalised max per member: [0.25, 0.5, 1.0]" in out
    assert "=== Experiment Overview ===" in out and "= Ensemble Name: sim =" in out  # preview
    assert "=== Launch Summary ===" in done.stderr  # start(summary=True), logged
    assert "| analysis " in done.stderr and "| RunID |" in done.stderr  # exp.summary()
    assert not _server_pids(exp_dir)  # exp.stop(db) left nothing running
