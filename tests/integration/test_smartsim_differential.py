"""The same SmartSim 0.8 driver fragment through SmartSim itself and through sscontainer.

``smartsim_probe.py`` is run with its ``smartsim`` imports by SmartSim 0.8.0's Python
(``SSCONTAINER_SMARTSIM_PYTHON``, a venv with ``pip install smartsim==0.8.0``) and,
with only those imports changed, by this one. Values must be equal; where SmartSim
raises, sscontainer raises an exception of every class SmartSim's is an instance of
(sscontainer's may also be an instance of more: its own hierarchy stays).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import require_service

PROBE = Path(__file__).with_name("smartsim_probe.py")
SMARTSIM_ENV = "SSCONTAINER_SMARTSIM_PYTHON"


def _smartsim_python() -> str:
    python = os.environ.get(SMARTSIM_ENV, "")
    ok = bool(python) and subprocess.run(
        [python, "-c", "import smartsim; assert smartsim.__version__ == '0.8.0'"],
        capture_output=True, timeout=120,
    ).returncode == 0
    require_service(ok, "SmartSim 0.8.0", f"make a venv with `pip install smartsim==0.8.0` and "
                    f"set {SMARTSIM_ENV} to its python (.ci/smartsim-venv.sh does)")
    return python


def _run(python: str, script: Path, root: Path) -> dict[str, Any]:
    # SmartSim's telemetry monitor would outlive the driver, holding its output open
    env = {**os.environ, "SMARTSIM_FLAG_TELEMETRY": "0"}
    done = subprocess.run([python, str(script), str(root)], capture_output=True, text=True,
                          timeout=300, cwd=root.parent, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(x for x in done.stdout.splitlines()[::-1] if x.startswith("RESULT:"))
    result: dict[str, Any] = json.loads(line[len("RESULT:"):])
    return result


def _normalise(value: Any) -> Any:
    """SmartSim's summary prints statuses as ``SmartSimStatus.STATUS_COMPLETED``."""
    text = json.dumps(value)
    return json.loads(re.sub(r"SmartSimStatus\.STATUS_(\w+)",
                             lambda m: m.group(1).title().replace("_", ""), text))


def test_same_driver_same_results(tmp_path: Path) -> None:
    smartsim_python = _smartsim_python()
    source = PROBE.read_text()
    head, imports, tail = source.split("# --- IMPORTS ---")
    ours = tmp_path / "probe_sscontainer.py"
    ours.write_text(head + imports.replace("from smartsim", "from sscontainer") + tail)
    theirs = _run(smartsim_python, PROBE, tmp_path / "smartsim")
    mine = _run(sys.executable, ours, tmp_path / "sscontainer")
    assert set(theirs) == set(mine)
    assert len(theirs) >= 25
    for name in sorted(theirs):
        expected, got = theirs[name], mine[name]
        if "raises" in expected:
            assert "raises" in got, f"{name}: SmartSim raises {expected['raises']}, we return {got}"
            assert set(expected["raises"]) <= set(got["raises"]), (name, expected, got)
        else:
            assert _normalise(expected) == got, name
