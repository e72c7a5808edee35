"""Real jobs on the multi-node Slurm cluster from .ci/slurm-multinode.sh."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from sscontainer.errors import LauncherError
from sscontainer.launchers.base import JobInfo, Launcher
from sscontainer.launchers.slurm import SlurmLauncher
from sscontainer.launchers.slurm_query import parse_scontrol_records
from sscontainer.launchers.step import Resources, Step
from sscontainer.status import Status
from tests.integration.slurm_support import use_multinode

pytestmark = pytest.mark.slurm

HOSTILE = "a b 'q' \"dq\" $(touch PWNED) `touch PWNED`; touch PWNED \\\nline2 ${HOME} * ,x=y"
DUMP = (
    "import json, os, sys; json.dump({'argv': sys.argv[1:], 'env': os.environ['HOSTILE']},"
    " open('got.json', 'w'))"
)


@pytest.fixture(scope="module")
def launcher() -> Iterator[SlurmLauncher]:
    with pytest.MonkeyPatch.context() as patch:
        use_multinode(patch)  # SLURM_CONF for the launcher and the scontrol calls below
        yield SlurmLauncher(poll_interval=0.2)


def make_step(tmp_path: Path, name: str, argv: Sequence[str], **over: object) -> Step:
    cwd = tmp_path / name
    fields: dict[str, object] = {
        "name": name,
        "entity_type": "Model",
        "argv": tuple(argv),
        "cwd": str(cwd),
        "out": str(cwd / f"{name}.out"),
        "err": str(cwd / f"{name}.err"),
    }
    fields.update(over)
    return Step(**fields)  # type: ignore[arg-type]


def finish(launcher: SlurmLauncher, handles: Sequence[str], bound: float = 120) -> list[JobInfo]:
    """Wait (bounded) until every handle is terminal; their JobInfo in order."""
    deadline = time.monotonic() + bound
    left = set(handles)
    while left and time.monotonic() < deadline:
        left -= launcher.wait(left, timeout=deadline - time.monotonic())
    assert not left, f"jobs {sorted(left)} did not end within {bound}s"
    return [launcher.status(h) for h in handles]


def reach(launcher: SlurmLauncher, handle: str, status: Status, bound: float = 60) -> None:
    deadline = time.monotonic() + bound
    while launcher.status(handle).status is not status:
        assert time.monotonic() < deadline, f"job {handle} never reached {status}"
        time.sleep(0.2)


def test_is_a_launcher(launcher: SlurmLauncher) -> None:
    assert isinstance(launcher, Launcher) and launcher.name == "slurm"


def test_completed_job_with_output(launcher: SlurmLauncher, tmp_path: Path) -> None:
    step = make_step(tmp_path, "hello", ["sh", "-c", "echo hello from slurm; echo oops >&2"])
    handle = launcher.start(step)
    assert handle.isdigit()
    (info,) = finish(launcher, [handle])
    assert (info.status, info.returncode) == (Status.COMPLETED, 0)
    assert Path(step.out).read_text() == "hello from slurm\n"
    assert Path(step.err).read_text() == "oops\n"
    assert (tmp_path / "hello" / "hello.sbatch").is_file()
    assert (tmp_path / "hello" / "hello.exitcode").read_text() == "0\n"


def test_failed_job_keeps_exit_code(launcher: SlurmLauncher, tmp_path: Path) -> None:
    handle = launcher.start(make_step(tmp_path, "bad", ["sh", "-c", "exit 3"]))
    (info,) = finish(launcher, [handle])
    assert (info.status, info.returncode) == (Status.FAILED, 3)


def test_cancel_running_job(launcher: SlurmLauncher, tmp_path: Path) -> None:
    handle = launcher.start(make_step(tmp_path, "sleeper", ["sleep", "60"]))
    reach(launcher, handle, Status.RUNNING)
    assert launcher.wait([handle], timeout=0.3) == set()  # still running: nothing terminal
    info = launcher.stop(handle, grace=5)
    assert info.status is Status.CANCELLED
    assert launcher.status(handle).status is Status.CANCELLED
    assert launcher.stop(handle).status is Status.CANCELLED  # stopping twice is harmless


def alive(pid: int) -> bool:
    """A process exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_stop_kills_a_job_that_ignores_sigterm(launcher: SlurmLauncher, tmp_path: Path) -> None:
    # The batch shell dies of SIGTERM while its child ignores it: the child must not
    # outlive the job (proctrack/pgid in slurm-up.sh; linuxproc loses such orphans).
    script = "trap '' TERM; echo $$ > pid.txt; sleep 60 & wait; sleep 60"
    step = make_step(tmp_path, "stubborn", ["bash", "-c", script])
    handle = launcher.start(step)
    reach(launcher, handle, Status.RUNNING)
    pid_file = Path(step.cwd) / "pid.txt"
    deadline = time.monotonic() + 30
    while not pid_file.is_file() or not pid_file.read_text().strip():
        assert time.monotonic() < deadline, "the job never wrote its pid"
        time.sleep(0.1)
    pid = int(pid_file.read_text())
    assert alive(pid)
    info = launcher.stop(handle, grace=1)
    assert info.status is Status.CANCELLED
    assert not alive(pid)


def test_wait_returns_the_first_to_finish(launcher: SlurmLauncher, tmp_path: Path) -> None:
    slow = launcher.start(make_step(tmp_path, "slow", ["sleep", "60"]))
    quick = launcher.start(make_step(tmp_path, "quick", ["true"]))
    try:
        deadline = time.monotonic() + 120
        done: set[str] = set()
        while not done and time.monotonic() < deadline:
            done = launcher.wait([slow, quick], timeout=5)
        assert done == {quick}
        assert launcher.status(slow).status in (Status.QUEUED, Status.RUNNING)
    finally:
        assert launcher.stop(slow).status is Status.CANCELLED


def test_job_array_members_write_their_own_files(launcher: SlurmLauncher, tmp_path: Path) -> None:
    steps = [
        make_step(
            tmp_path / "ens",
            f"member_{i}",
            ["sh", "-c", 'printf "%s" "$MEMBER" > mine.txt; echo "out $MEMBER"'],
            env={"MEMBER": f"m {i}"},
        )
        for i in range(3)
    ]
    handles = launcher.start_array(steps)
    job_id = handles[0].split("_")[0]
    assert handles == [f"{job_id}_{i}" for i in range(3)]
    infos = finish(launcher, handles)
    assert [(i.status, i.returncode) for i in infos] == [(Status.COMPLETED, 0)] * 3
    for i, step in enumerate(steps):
        assert (Path(step.cwd) / "mine.txt").read_text() == f"m {i}"
        assert Path(step.out).read_text() == f"out m {i}\n"
    assert (tmp_path / "ens" / "ens.sbatch").is_file()  # named after the common directory


def test_array_member_failure_is_its_own(launcher: SlurmLauncher, tmp_path: Path) -> None:
    steps = [make_step(tmp_path, f"t{i}", ["sh", "-c", f"exit {i}"]) for i in range(2)]
    handles = launcher.start_array(steps, name="codes", max_parallel=1)
    infos = finish(launcher, handles)
    assert [(i.status, i.returncode) for i in infos] == [
        (Status.COMPLETED, 0),
        (Status.FAILED, 1),
    ]


def test_hostile_values_arrive_intact(launcher: SlurmLauncher, tmp_path: Path) -> None:
    comment = 'a "b" #c \\ d $(id)'
    step = make_step(
        tmp_path,
        "hostile",
        [sys.executable, "-c", DUMP, HOSTILE, "--x=$(id)"],
        env={"HOSTILE": HOSTILE},
        batch_args=(f"--comment={comment}",),
        resources=Resources(ntasks=1, walltime="00:05:00"),
    )
    handle = launcher.start(step)
    (info,) = finish(launcher, [handle])
    assert info.status is Status.COMPLETED, Path(step.err).read_text()
    got = json.loads((Path(step.cwd) / "got.json").read_text())
    assert got == {"argv": [HOSTILE, "--x=$(id)"], "env": HOSTILE}
    assert not (Path(step.cwd) / "PWNED").exists()
    # The #SBATCH lines reached sbatch intact as well.
    shown = subprocess.run(
        ["scontrol", "show", "job", "-o", handle], capture_output=True, text=True, check=True
    ).stdout
    (record,) = parse_scontrol_records(shown)
    assert record["Comment"] == comment
    assert record["TimeLimit"] == "00:05:00"


def test_unknown_and_malformed_handles(launcher: SlurmLauncher) -> None:
    info = launcher.status("987654321")
    assert info.status is Status.FAILED and info.returncode is None
    assert "MinJobAge" in info.detail
    with pytest.raises(LauncherError, match="not a Slurm job handle"):
        launcher.status("1; scancel --user root")


class CountingSlurmLauncher(SlurmLauncher):
    """The real launcher, counting the scheduler commands it runs."""

    def __init__(self) -> None:
        super().__init__(poll_interval=0.2)
        self.commands: list[str] = []

    def _run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        self.commands.append(argv[0])
        return super()._run(*argv, check=check)


def test_a_status_poll_of_many_jobs_is_one_scheduler_call(
    launcher: SlurmLauncher, tmp_path: Path
) -> None:
    counting = CountingSlurmLauncher()
    steps = [make_step(tmp_path, f"s{i}", ["sleep", "60"]) for i in range(12)]
    handles = counting.start_array(steps, name="sleepers")
    try:
        for handle in handles:
            reach(counting, handle, Status.RUNNING)
        time.sleep(0.5)  # past the poll interval: the next question is a poll of its own
        counting.commands.clear()
        assert {counting.status(h).status for h in handles} == {Status.RUNNING}
        assert counting.commands == ["squeue"]
    finally:
        subprocess.run(["scancel", handles[0].split("_")[0]], check=False)
        finish(counting, handles)
