"""Launch 64 trivial members as one job array across the nodes of a Slurm cluster.

Prints, measured in the same run:

- the time from ``Experiment.start`` of a 64-replica ensemble with batch settings (one job
  array) to every member COMPLETED, against a bare ``sbatch`` of the very script sscontainer
  wrote (same members, same srun inside) polled with ``squeue`` every 0.25 s (the launcher's
  own poll interval) until all 64 tasks are COMPLETED; alternating rounds, medians, ratio;
- how many scheduler commands one status poll of 64 running jobs makes
  (``Job.refresh`` of each, as ``Experiment.get_status`` does).

The cluster: ``--slurm-conf``, else .ci/slurm-multinode.sh's (/tmp/sscontainer-mn), else
``$SLURM_CONF``.

    python benchmarks/slurm_launch.py [--members 64] [--rounds 3] [--slurm-conf PATH]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from sscontainer import Experiment, Status
from sscontainer.jobs import Job
from sscontainer.launchers.slurm import SlurmLauncher
from sscontainer.launchers.step import Step
from sscontainer.settings.containers import ContainerSettings

POLL_S = 0.25
MULTINODE_CONF = "/tmp/sscontainer-mn/slurm.conf"


def squeue_states(job_id: str) -> list[str]:
    done = subprocess.run(
        ["squeue", "-h", "-r", "-t", "all", "-j", job_id, "-o", "%T"],
        capture_output=True, text=True, check=True,
    )
    return done.stdout.split()


def bare_array(script: Path, members: int) -> float:
    """sbatch the script sscontainer wrote; poll squeue until every task is COMPLETED."""
    start = time.perf_counter()
    job_id = subprocess.run(
        ["sbatch", "--parsable", str(script)], capture_output=True, text=True, check=True
    ).stdout.strip().split(";")[0]
    while True:
        states = squeue_states(job_id)
        if len(states) == members and set(states) == {"COMPLETED"}:
            return time.perf_counter() - start
        if any(s in ("FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL") for s in states):
            raise SystemExit(f"the bare array {job_id} failed: {Counter(states)}")
        time.sleep(POLL_S)


def sscontainer_array(workdir: Path, members: int) -> tuple[float, Path, set[str]]:
    """Experiment.start of a batched ensemble: (seconds, its sbatch script, nodes used)."""
    exp = Experiment("bench", exp_path=str(workdir), launcher="slurm")
    try:  # plain processes on the nodes, where Slurm's default is a container (Apptainer)
        exp.default_container = ContainerSettings(runtime="none")
    except ValueError:
        pass  # this version runs models without container settings on the nodes already
    ensemble = exp.create_ensemble(
        "fan", replicas=members, run_settings=exp.create_run_settings("true"),
        batch_settings=exp.create_batch_settings(nodes=1, time="00:05:00"),
    )
    exp.generate(ensemble)
    start = time.perf_counter()
    exp.start(ensemble, block=True)
    elapsed = time.perf_counter() - start
    statuses = exp.get_status(ensemble)
    if set(statuses) != {Status.COMPLETED}:
        raise SystemExit(f"sscontainer's array did not complete: {Counter(statuses)}")
    launcher = exp.jobs.all()[0].launcher
    nodes = {launcher.node_of(j.handle) for j in exp.jobs.all()}  # type: ignore[attr-defined]
    return elapsed, workdir / "fan" / "fan.sbatch", nodes


class CountingSlurmLauncher(SlurmLauncher):
    """The real launcher, counting the scheduler commands it runs."""

    def __init__(self) -> None:
        super().__init__()
        self.commands: list[str] = []

    def _run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        self.commands.append(argv[0])
        return super()._run(*argv, check=check)


def commands_per_poll(workdir: Path, members: int) -> tuple[int, Counter[str]]:
    """Scheduler commands one refresh of ``members`` running jobs makes."""
    launcher = CountingSlurmLauncher()
    steps = [
        Step(name=f"s{i}", entity_type="Model", argv=("sleep", "120"), cwd=str(workdir / f"s{i}"),
             out=str(workdir / f"s{i}" / "out"), err=str(workdir / f"s{i}" / "err"))
        for i in range(members)
    ]
    handles = launcher.start_array(steps, name="sleepers")
    jobs = [Job(step, handle, launcher) for step, handle in zip(steps, handles, strict=True)]
    try:
        deadline = time.monotonic() + 120
        while {job.refresh() for job in jobs} != {Status.RUNNING}:
            if time.monotonic() > deadline:
                raise SystemExit("the sleepers never all ran")
            time.sleep(POLL_S)
        time.sleep(POLL_S * 2)  # the next refresh is a poll of its own, not a cached answer
        launcher.commands.clear()
        statuses = {job.refresh() for job in jobs}
        assert statuses == {Status.RUNNING}, statuses
        return len(launcher.commands), Counter(launcher.commands)
    finally:
        subprocess.run(["scancel", handles[0].split("_")[0]], check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--slurm-conf", default=None)
    args = parser.parse_args()
    conf = args.slurm_conf or (MULTINODE_CONF if os.path.isfile(MULTINODE_CONF) else None)
    if conf:
        os.environ["SLURM_CONF"] = conf
    if not shutil.which("sbatch") or not os.environ.get("SLURM_CONF"):
        sys.exit("no Slurm cluster: run .ci/slurm-multinode.sh up (or give --slurm-conf)")
    nodes = subprocess.run(["sinfo", "-h", "-N", "-o", "%N"], capture_output=True, text=True,
                           check=True).stdout.split()
    print(f"cluster {os.environ['SLURM_CONF']}: {len(set(nodes))} nodes; {args.members} members")

    base = Path(tempfile.mkdtemp(prefix="ssc-bench-slurm-"))  # shared by the nodes
    ours: list[float] = []
    bare: list[float] = []
    try:
        for round_ in range(args.rounds):
            took, script, used = sscontainer_array(base / f"ssc{round_}", args.members)
            ours.append(took)
            bare.append(bare_array(script, args.members))
            print(f"round {round_ + 1}: sscontainer {ours[-1]:.2f} s (nodes {sorted(used)}), "
                  f"bare sbatch {bare[-1]:.2f} s", flush=True)
        mine, theirs = statistics.median(ours), statistics.median(bare)
        print(f"submit -> all COMPLETED, median of {args.rounds}: sscontainer {mine:.2f} s, "
              f"bare sbatch --array {theirs:.2f} s, ratio {mine / theirs:.2f}x (target <= 1.3x)")
        count, kinds = commands_per_poll(base / "poll", args.members)
        print(f"one status poll of {args.members} running jobs: {count} scheduler call(s) "
              f"({dict(kinds)})")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
