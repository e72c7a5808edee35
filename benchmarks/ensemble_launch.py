"""Launch a 64-member ensemble of a trivial script on the local launcher.

Prints the time from ``start`` to all members COMPLETED, and its ratio against
a bare ``subprocess.Popen`` fan-out of the same 64 commands measured in the same
run; with ``--smartsim PYTHON`` also against SmartSim's local launcher (a Python
with ``smartsim==0.8.0`` installed).

    python benchmarks/ensemble_launch.py [--members 64] [--rounds 5] [--smartsim /venv/bin/python]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

TRIVIAL = ["-c", "print('done')"]


def bare_fanout(workdir: Path, members: int, python: str) -> float:
    workdir.mkdir(parents=True)
    start = time.perf_counter()
    procs = []
    for i in range(members):
        with open(workdir / f"m{i}.out", "wb") as out, open(workdir / f"m{i}.err", "wb") as err:
            procs.append(
                subprocess.Popen([python, *TRIVIAL], stdout=out, stderr=err, start_new_session=True)
            )
    codes = [p.wait() for p in procs]
    elapsed = time.perf_counter() - start
    assert codes == [0] * members
    return elapsed


def sscontainer_run(workdir: Path, members: int, python: str) -> float:
    from sscontainer import Experiment, Status

    exp = Experiment("bench", exp_path=str(workdir))
    ens = exp.create_ensemble(
        "fan", run_settings=exp.create_run_settings(python, TRIVIAL), replicas=members
    )
    exp.generate(ens)
    start = time.perf_counter()
    exp.start(ens, block=True)
    elapsed = time.perf_counter() - start
    assert set(exp.get_status(ens)) == {Status.COMPLETED}
    return elapsed


SMARTSIM_DRIVER = textwrap.dedent(
    """
    import json, sys, time
    from smartsim import Experiment
    workdir, members, python = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    exp = Experiment("bench", exp_path=workdir, launcher="local")
    rs = exp.create_run_settings(exe=python, exe_args=["-c", "print('done')"])
    ens = exp.create_ensemble("fan", run_settings=rs, replicas=members)
    exp.generate(ens, overwrite=True)
    start = time.perf_counter()
    exp.start(ens, block=True)
    elapsed = time.perf_counter() - start
    statuses = {str(s) for s in exp.get_status(ens)}
    print(json.dumps({"seconds": elapsed, "statuses": sorted(statuses)}))
    """
)


def smartsim_run(workdir: Path, members: int, smartsim_python: str, python: str) -> float:
    workdir.mkdir(parents=True)  # SmartSim 0.8's Experiment needs exp_path to exist
    result = subprocess.run(
        [smartsim_python, "-c", SMARTSIM_DRIVER, str(workdir), str(members), python],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=workdir,
    )
    if result.returncode != 0:
        raise SystemExit(f"SmartSim run failed:\n{result.stderr[-2000:]}")
    report = json.loads(result.stdout.strip().splitlines()[-1])
    if not all("COMPLETED" in s.upper() for s in report["statuses"]):
        raise SystemExit(f"SmartSim members did not all complete: {report['statuses']}")
    return float(report["seconds"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--smartsim", metavar="PYTHON", help="a Python with smartsim==0.8.0")
    args = parser.parse_args()
    python = sys.executable
    times: dict[str, list[float]] = {"bare Popen fan-out": [], "sscontainer local": []}
    if args.smartsim:
        times["SmartSim 0.8.0 local"] = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            base = Path(tmp) / f"round{r}"
            times["bare Popen fan-out"].append(bare_fanout(base / "bare", args.members, python))
            times["sscontainer local"].append(sscontainer_run(base / "ssc", args.members, python))
            if args.smartsim:
                times["SmartSim 0.8.0 local"].append(
                    smartsim_run(base / "smartsim", args.members, args.smartsim, python)
                )
    baseline = statistics.median(times["bare Popen fan-out"])
    print(f"{args.members} members x {args.rounds} rounds (median), start -> all completed")
    print(f"{'runner':<24}{'seconds':>10}{'vs bare':>10}")
    for name, samples in times.items():
        median = statistics.median(samples)
        print(f"{name:<24}{median:>10.3f}{median / baseline:>9.2f}x")
    if args.smartsim:
        ratio = statistics.median(times["SmartSim 0.8.0 local"]) / statistics.median(
            times["sscontainer local"]
        )
        print(f"SmartSim / sscontainer: {ratio:.2f}x")


if __name__ == "__main__":
    main()
