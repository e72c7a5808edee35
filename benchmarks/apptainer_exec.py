"""What Apptainer costs: a no-op rebuild of an unchanged SIF, and `apptainer exec` per step.

1. No-op rebuild: ``sscontainer build --format apptainer`` on an experiment whose
   images exist (a fresh process, as a user runs it), with no ``apptainer`` on PATH,
   so any build attempt would fail; and the in-process check alone (render + hash +
   one engine call). Target: <= 2 s, no ``apptainer build``.
2. Exec overhead, in the same run: a trivial step (``true``, then ``python3 -c pass``)
   run bare against the same step in ``apptainer exec IMAGE``; then a trivial model as
   a Slurm job (sbatch + srun) without a container against the same model in Apptainer.

    python benchmarks/apptainer_exec.py [--rounds 10] [--slurm-rounds 3]

Needs real Apptainer (.ci/apptainer-up.sh), the Docker Engine with sscontainer's base
images, and for part 2b a Slurm cluster (SLURM_CONF). Images are built once if missing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def median_time(run: Callable[[], None], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def call(argv: list[str], env: dict[str, str] | None = None) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr[-2000:]}")


def no_op_rebuild(work: Path, rounds: int) -> tuple[str, float, float]:
    """(sif path, median CLI seconds, median in-process check seconds)."""
    from sscontainer.build.entity_images import EntityImages
    from sscontainer.build.sif_images import SifImages
    from sscontainer.specs import orchestrator_spec

    example = work / "pc"
    shutil.copytree(REPO / "examples" / "producer_consumer", example,
                    ignore=shutil.ignore_patterns("runs"))
    yaml = str(example / "experiment.yaml")
    argv = [sys.executable, "-m", "sscontainer.cli", "build", "--format", "apptainer", yaml]
    call(argv)  # builds what is missing, once
    no_tool = dict(os.environ, PATH=f"{os.path.dirname(sys.executable)}:/usr/bin:/bin")
    if any(os.path.exists(f"{d}/apptainer") for d in no_tool["PATH"].split(":")):
        raise SystemExit("apptainer is in /usr/bin or /bin: cannot hide it for the no-op check")
    cli = median_time(lambda: call([*argv, "--quiet"], no_tool), rounds)
    sifs = SifImages(EntityImages(str(example), build_missing=False))
    sif = sifs.build(orchestrator_spec())  # engine client made here, as in a driver
    check = median_time(lambda: None if sifs.build(orchestrator_spec()) else None, rounds)
    return str(sif.path), cli, check


def exec_overhead(sif: str, rounds: int) -> list[tuple[str, float, float]]:
    rows = []
    for label, argv in (("true", ["true"]), ("python3 -c pass", ["python3", "-c", "pass"])):
        boxed_argv = ["apptainer", "exec", "--no-eval", sif, *argv]
        bare = median_time(lambda: call(argv), rounds)  # noqa: B023 (called right here)
        boxed = median_time(lambda: call(boxed_argv), rounds)  # noqa: B023
        rows.append((label, bare, boxed))
    return rows


def slurm_overhead(work: Path, rounds: int) -> tuple[float, float]:
    """Median seconds from start to COMPLETED of a trivial model, on the nodes / in Apptainer."""
    from sscontainer import Experiment, Status
    from sscontainer.settings.containers import ContainerSettings

    def one(tag: str, container: ContainerSettings) -> float:
        times = []
        for i in range(rounds):
            exp = Experiment(f"b{tag}{i}", exp_path=str(work / f"{tag}{i}"), launcher="slurm")
            exp.default_container = container
            model = exp.create_model("m", exp.create_run_settings("true"))
            exp.generate(model)
            start = time.perf_counter()
            exp.start(model)
            times.append(time.perf_counter() - start)
            assert exp.get_status(model) == [Status.COMPLETED]
        return statistics.median(times)

    boxed = ContainerSettings()
    one("warm", boxed)  # the model image exists before anything is timed
    return one("host", ContainerSettings(runtime="none")), one("appt", boxed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--slurm-rounds", type=int, default=3)
    args = parser.parse_args()
    version = subprocess.run(["apptainer", "--version"], capture_output=True, text=True)
    print(f"{version.stdout.strip()}; {os.cpu_count()} cores; median of {args.rounds} rounds")
    with tempfile.TemporaryDirectory(prefix="ssc-bench-appt-") as tmp:
        work = Path(tmp)
        sif, cli, check = no_op_rebuild(work, args.rounds)
        print(textwrap.dedent(f"""
            no-op rebuild of unchanged SIFs (producer/consumer: orchestrator + model),
            no apptainer on PATH:
              `sscontainer build --format apptainer` (new process) {cli:7.3f} s  (target <= 2 s)
              in-process check of one image (render + hash + engine) {check * 1000:7.1f} ms
        """).rstrip())
        print("\nexec overhead (bare vs `apptainer exec --no-eval IMAGE`):")
        for label, bare, boxed in exec_overhead(sif, args.rounds):
            print(f"  {label:16s} bare {bare * 1000:8.1f} ms  apptainer {boxed * 1000:8.1f} ms"
                  f"  +{(boxed - bare) * 1000:7.1f} ms  ({boxed / bare:5.1f}x)")
        if shutil.which("sbatch") and os.environ.get("SLURM_CONF"):
            host, appt = slurm_overhead(work, args.slurm_rounds)
            print(f"\na trivial model as a Slurm job, start -> COMPLETED (median of "
                  f"{args.slurm_rounds}):\n  on the node {host:6.2f} s  in Apptainer {appt:6.2f} s"
                  f"  +{appt - host:5.2f} s  ({appt / host:4.2f}x)")
        else:
            print("\n(no Slurm: set SLURM_CONF to time a trivial model as a job)")


if __name__ == "__main__":
    main()
