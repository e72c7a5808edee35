"""The guide's producer/consumer example with SmartRedis apps, on every launcher.

The example's applications are the guide's with sscontainer's imports; here they get the
guide's own imports back (``from smartredis import Client``, ``from smartredis import *``)
and nothing else changes: the real SmartRedis 0.6.1 client reads ``SSDB``,
``SR_DB_TYPE``, ``SSKEYOUT`` and ``SSKEYIN`` from sscontainer's launch. Locally it is
this machine's SmartRedis; under docker and Apptainer the one in sscontainer's base image.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sscontainer.db.address import find_free_port
from tests.conftest import require_service
from tests.integration.apptainer_support import image_cache, require_apptainer, require_docker_base
from tests.integration.db_fixtures import require_server
from tests.integration.slurm_support import use_multinode

REPO = Path(__file__).resolve().parents[2]
PY = sys.executable
APPS = ("producer_1.py", "producer_2.py", "consumer.py")
GUIDE_IMPORTS = {
    "from sscontainer import Client\n": "from smartredis import Client\n",
    "from sscontainer.client import *  # noqa: F403  (LLInfo & co., as `from smartredis "
    "import *`)\n": "from smartredis import *\n",
}
REAL_CLIENT_NOTICE = "SmartRedis Library@"  # its own log lines: only the real client writes them
__all__ = ["image_cache"]  # the fixture, used by name


def smartredis_example(dest: Path) -> Path:
    """The example with the guide's imports in its apps and a free port; its YAML."""
    shutil.copytree(REPO / "examples" / "producer_consumer", dest,
                    ignore=shutil.ignore_patterns("runs"))
    for app in APPS:
        text = (dest / app).read_text()
        for ours, guide in GUIDE_IMPORTS.items():
            assert text.count(ours) == 1, f"{app} lost its import line {ours!r}"
            text = text.replace(ours, guide)
        assert "sscontainer" not in text.split('"""', 2)[-1], app  # only imports changed
        (dest / app).write_text(text)
    yaml = dest / "experiment.yaml"
    yaml.write_text(yaml.read_text().replace("port: 6379", f"port: {find_free_port()}"))
    return yaml


def run(yaml: Path, launcher: str, *extra: str) -> Path:
    done = subprocess.run(
        [PY, "-m", "sscontainer.cli", "run", str(yaml), "--launcher", launcher, "-q", *extra],
        capture_output=True, text=True, timeout=1500,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return yaml.parent / "runs" / "producer-consumer"


def check(run_dir: Path) -> None:
    out = (run_dir / "consumer" / "consumer.out").read_text()
    assert "1: [5 6 7 8]" in out and "2: [1 2 3 4]" in out, out
    assert REAL_CLIENT_NOTICE in out, out


def test_local(tmp_path: Path) -> None:
    pytest.importorskip("smartredis", reason="pip install smartredis==0.6.1 (the test extra)")
    require_server()
    check(run(smartredis_example(tmp_path / "pc"), "local"))


@pytest.mark.docker
def test_docker(tmp_path: Path) -> None:
    require_docker_base()
    check(run(smartredis_example(tmp_path / "pc"), "docker", "--build"))


@pytest.mark.slurm
@pytest.mark.apptainer
@pytest.mark.timeout(1800)
def test_slurm_apptainer_across_nodes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, image_cache: Path
) -> None:
    require_apptainer()
    require_docker_base()
    cluster = use_multinode(monkeypatch)
    yaml = smartredis_example(tmp_path / "pc")
    nodes = cluster.nodes
    require_service(len(nodes) >= 2, "two nodes", "bash .ci/slurm-multinode.sh up")
    # the database on the first node, the apps elsewhere (hostlist), all in Apptainer
    text = yaml.read_text().replace("interface: auto}", f"interface: auto, hosts: [{nodes[0]}]}}")
    text = text.replace("    run: {nodes: 1,", f"    run: {{hostlist: [{nodes[-1]}], nodes: 1,")
    yaml.write_text(text)
    run_dir = run(yaml, "slurm", "--build")
    check(run_dir)
    for name in ("orchestrator_0", "consumer"):
        script = next(run_dir.rglob(f"{name}.sbatch")).read_text()
        assert "apptainer exec --no-eval" in script and ".sif " in script, script
    shard = (run_dir / "orchestrator" / "orchestrator_0.err").read_text()
    assert f"node {nodes[0]}" in shard, shard
