"""The Slurm launcher: every Step becomes an sbatch script, state comes from squeue/scontrol.

Scripts are rendered by :mod:`.slurm_script` and written with mode 0600: a step's
environment (a database password among it) is in them.

Slurm forgets a finished job after ``MinJobAge`` (300 s by default) and small
clusters often have no accounting, so the launcher keeps what it last saw, asks
``sacct`` when it exists, and finally reads the exit code the script recorded.
"""

from __future__ import annotations

import os
import pwd
import shlex
import shutil
import subprocess
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from ..errors import LauncherError, SSConfigError
from ..status import Status
from . import slurm_query as q
from .base import JobInfo
from .docker import container_user, share_run_dir
from .runtimes import check_runtime
from .slurm_script import (
    array_dir,
    exit_file,
    render_array_script,
    render_batch_script,
    script_path,
)
from .step import Step

__all__ = ["SlurmLauncher", "render_array_script", "render_batch_script"]


# --- the launcher -------------------------------------------------------------------
@dataclass
class _Job:
    exit_file: str
    last: JobInfo
    node: str = ""  # where its batch script ran (scontrol's BatchHost), once known


class SlurmLauncher:
    """Runs steps as Slurm batch jobs (``sbatch``), containers through ``runtime``.

    ``runtime`` wraps steps that have an image (a step's own ``runtime`` wins).
    ``slurm_conf`` points every Slurm command at that configuration file.
    """

    name = "slurm"

    def __init__(
        self,
        runtime: str = "apptainer",
        *,
        slurm_conf: str | None = None,
        poll_interval: float = 0.25,
        command_timeout: float = 60.0,
        stop_timeout: float = 60.0,
    ) -> None:
        self.runtime = check_runtime(runtime)
        self.poll_interval = poll_interval
        self.command_timeout = command_timeout
        self.stop_timeout = stop_timeout
        self._env = dict(os.environ)
        if slurm_conf is not None:
            self._env["SLURM_CONF"] = slurm_conf
        self._jobs: dict[str, _Job] = {}
        # every watched job's state from one squeue call, and when it was taken
        self._snapshot: dict[str, Status] = {}
        self._covered: set[str] = set()  # asked about in that call (absent there: ended/forgotten)
        self._snapshot_at = float("-inf")

    # -- commands --
    def _run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        if shutil.which(argv[0], path=self._env.get("PATH")) is None:
            raise LauncherError(
                f"{argv[0]} not found: install the Slurm client tools (slurm-client) or "
                "start the test cluster with .ci/slurm-up.sh"
            )
        try:
            done = subprocess.run(  # an argument list: no shell involved
                argv, capture_output=True, text=True, env=self._env, timeout=self.command_timeout
            )
        except subprocess.TimeoutExpired as exc:
            raise LauncherError(
                f"{shlex.join(argv)} did not answer within {self.command_timeout:g}s: is "
                "slurmctld up? (sinfo; .ci/slurm-up.sh starts the test cluster)"
            ) from exc
        if check and done.returncode != 0:
            raise LauncherError(
                f"{shlex.join(argv)} failed ({done.returncode}): {done.stderr.strip()}"
            )
        return done

    def _submit(self, script: str, text: str) -> str:
        # 0600: the script exports the step's environment, which may hold a password
        fd = os.open(script, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(script, 0o600)  # a file left by an earlier run keeps its mode otherwise
        out = self._run("sbatch", "--parsable", script).stdout.strip()
        job_id = out.split(";", 1)[0]
        if not job_id.isdigit():
            raise LauncherError(f"sbatch answered {out!r} instead of a job id for {script}")
        return job_id

    def _prepare(self, step: Step) -> None:
        """Directories the job writes to exist; no exit code left from an earlier run."""
        for folder in {step.cwd, os.path.dirname(step.out), os.path.dirname(step.err)}:
            os.makedirs(folder or ".", exist_ok=True)
        try:
            os.unlink(exit_file(step))
        except FileNotFoundError:
            pass
        if step.image and (step.runtime or self.runtime) == "docker":
            share_run_dir(step, *container_user())

    # -- Launcher protocol --
    def start(self, step: Step) -> str:
        """Write ``<cwd>/<name>.sbatch`` and submit it; the handle is the job id."""
        text = render_batch_script(step, self.runtime)
        self._prepare(step)
        handle = self._submit(script_path(step), text)
        self._jobs[handle] = _Job(exit_file(step), JobInfo(Status.QUEUED))
        return handle

    def adopt(self, handle: str, step: Step) -> None:
        """Watch a job an earlier driver submitted (its exit file is where it left it).

        A job still known to Slurm must be this user's and run in the step's directory
        (or, for an array task, above it): an edited manifest or a reused job id must
        not make ``stop`` cancel somebody else's job."""
        if not q.is_handle(handle):
            raise LauncherError(f"{handle!r} is not a Slurm job handle (JOBID or JOBID_TASK)")
        self._check_owner(handle, step)
        self._jobs[handle] = _Job(exit_file(step), JobInfo(Status.QUEUED))

    def _check_owner(self, handle: str, step: Step) -> None:
        done = self._run("squeue", "-h", "-j", handle, "-o", "%i|%u|%Z", check=False)
        rows = [line.split("|", 2) for line in done.stdout.splitlines() if line.count("|") == 2]
        if done.returncode != 0 or not rows:
            return  # ended (and forgotten): nothing of it can be signalled
        _job, user, workdir = rows[0]
        me = pwd.getpwuid(os.getuid()).pw_name
        cwd = os.path.abspath(step.cwd)
        workdir = os.path.abspath(workdir)
        if user != me or os.path.commonpath([workdir, cwd]) != workdir:
            raise LauncherError(
                f"{step.name}: Slurm job {handle} is {user}'s, in {workdir}, not this "
                f"experiment's ({cwd}): the manifest was edited or the job id reused; "
                "nothing was cancelled"
            )

    def start_array(
        self, steps: Sequence[Step], name: str | None = None, max_parallel: int | None = None
    ) -> list[str]:
        """Submit ``steps`` as one job array; returns ``JOBID_i`` handles, in order.

        ``name`` defaults to the name of the members' common directory (an
        ensemble's directory); ``max_parallel`` limits how many run at once.
        """
        if not steps:
            raise SSConfigError("start_array needs at least one step")
        folder = array_dir(steps)
        name = name or os.path.basename(folder) or "array"
        text = render_array_script(steps, name, self.runtime, max_parallel)
        for step in steps:
            self._prepare(step)
        job_id = self._submit(os.path.join(folder, f"{name}.sbatch"), text)
        handles = [f"{job_id}_{i}" for i in range(len(steps))]
        for handle, step in zip(handles, steps, strict=True):
            self._jobs[handle] = _Job(exit_file(step), JobInfo(Status.QUEUED))
        return handles

    def _check_handle(self, handle: str) -> _Job:
        if not q.is_handle(handle):
            raise LauncherError(f"{handle!r} is not a Slurm job handle (JOBID or JOBID_TASK)")
        return self._jobs.setdefault(handle, _Job("", JobInfo(Status.QUEUED)))

    def _forgotten(self, handle: str, job: _Job) -> JobInfo:
        """A job scontrol no longer knows: sacct if there is accounting, else the exit file."""
        if shutil.which("sacct", path=self._env.get("PATH")):
            query = ["sacct", "-n", "-P", "-X", "-j", handle, "-o", "JobID,State,ExitCode"]
            done = self._run(*query, check=False)
            info = q.parse_sacct(done.stdout, handle) if done.returncode == 0 else None
            if info is not None:
                return info
        text = None
        if job.exit_file and os.path.isfile(job.exit_file):
            with open(job.exit_file, encoding="utf-8") as recorded:
                text = recorded.read()
        return q.job_info_from_exit_file(text)

    def status(self, handle: str) -> JobInfo:
        """A job's state from the latest squeue snapshot of every job this launcher watches.

        Asking for many jobs in a row costs one squeue call per ``poll_interval``; a job
        seen ending is asked about once more (scontrol: its exit code and node).
        """
        job = self._check_handle(handle)
        if job.last.status.is_terminal:
            return job.last  # terminal states do not change: no need to ask again
        if handle not in self._covered or time.monotonic() - self._snapshot_at > self.poll_interval:
            self._poll([handle])
        state = self._snapshot.get(handle)
        if state is not None and not state.is_terminal:
            if job.last.status is not state:
                job.last = JobInfo(state)
            return job.last
        return self._final(handle, job)

    def _final(self, handle: str, job: _Job) -> JobInfo:
        """The record of a job squeue shows ended (or no longer knows): exit code, node."""
        done = self._run("scontrol", "show", "job", "-o", handle, check=False)
        record = None
        if done.returncode == 0:
            record = q.find_record(q.parse_scontrol_records(done.stdout), handle)
        elif "invalid job id" not in done.stderr.lower():
            raise LauncherError(f"scontrol show job {handle} failed: {done.stderr.strip()}")
        job.last = q.job_info_from_record(record) if record else self._forgotten(handle, job)
        if record and q.node_of_record(record):
            job.node = q.node_of_record(record)
        return job.last

    def _poll(self, extra: Collection[str] = ()) -> dict[str, Status]:
        """One squeue call for every watched job not yet ended (and ``extra``): the snapshot."""
        wanted = {h for h, j in self._jobs.items() if not j.last.status.is_terminal}
        wanted |= set(extra)
        self._snapshot = self._states(wanted) if wanted else {}
        self._covered, self._snapshot_at = wanted, time.monotonic()
        return self._snapshot

    def node_of(self, handle: str) -> str:
        """The node a job's batch script runs (or ran) on; "" while pending or forgotten."""
        job = self._check_handle(handle)
        if not job.node:
            done = self._run("scontrol", "show", "job", "-o", handle, check=False)
            record = q.find_record(q.parse_scontrol_records(done.stdout), handle)
            job.node = q.node_of_record(record) if record else ""
        return job.node

    def node_addresses(self) -> dict[str, str]:
        """Every node of the cluster and the address Slurm reaches it at (one sinfo call)."""
        done = self._run("sinfo", "-h", "-N", "-o", "%N|%o")
        return q.parse_node_addresses(done.stdout)

    def _states(self, handles: Collection[str]) -> dict[str, Status]:
        """States of many handles in one squeue call (absent: Slurm forgot the job)."""
        ids = sorted({q.base_job_id(h) for h in handles})
        done = self._run(
            "squeue", "-h", "-r", "-t", "all", "-j", ",".join(ids), "-o", "%i|%T", check=False
        )
        if done.returncode != 0 and "invalid job id" not in done.stderr.lower():
            raise LauncherError(f"squeue failed: {done.stderr.strip()}")
        return {h: q.map_state(s) for h, s in q.parse_squeue(done.stdout).items()}

    def wait(self, handles: Collection[str], timeout: float | None = None) -> set[str]:
        """Poll squeue every ``poll_interval`` s until one of ``handles`` is terminal."""
        for handle in handles:
            self._check_handle(handle)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            terminal = {h for h in handles if self._jobs[h].last.status.is_terminal}
            pending = [h for h in handles if h not in terminal]
            if pending:
                self._poll(pending)
                for handle in pending:  # from the snapshot; scontrol only for those that ended
                    if self.status(handle).status.is_terminal:
                        terminal.add(handle)
            if terminal or not handles:
                return terminal
            if deadline is not None and time.monotonic() >= deadline:
                return set()
            pause = self.poll_interval
            if deadline is not None:
                pause = max(0.0, min(pause, deadline - time.monotonic()))
            time.sleep(pause)

    def stop_many(
        self, handles: Collection[str], grace: float = 5.0,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        """Stop many jobs within one ``grace`` period: one ``scancel`` for all of them,
        one with SIGKILL for those still running at the deadline (issue 13)."""
        live = [h for h in handles if not self.status(h).status.is_terminal]
        if not live:
            return
        self._run("scancel", *live, check=False)
        start = time.monotonic()
        killed = False
        while True:
            self._poll(live)
            pending = [h for h in live if not self.status(h).status.is_terminal]
            if not pending:
                return
            if not killed and time.monotonic() - start >= grace:
                if progress is not None:
                    progress(f"{len(pending)} Slurm job(s) still running {grace:g} s after "
                             "scancel: SIGKILL")
                self._run("scancel", "--signal=KILL", "--full", *pending, check=False)
                killed = True
            if time.monotonic() - start >= grace + self.stop_timeout:
                raise LauncherError(
                    f"jobs {', '.join(pending)} still running {self.stop_timeout:g}s after "
                    "scancel: check the nodes (scontrol show node) and slurmd's log"
                )
            time.sleep(self.poll_interval)

    def stop(self, handle: str, grace: float = 5.0) -> JobInfo:
        """``scancel`` (SIGTERM, SIGKILL after Slurm's KillWait), then wait until it ends.

        ``grace`` seconds after the cancel a job still running gets SIGKILL.
        """
        info = self.status(handle)
        if info.status.is_terminal:
            return info
        self._run("scancel", handle, check=False)  # fails only if it just ended: status says
        killed = False
        deadline = time.monotonic() + max(grace, 0.0) + self.stop_timeout
        start = time.monotonic()
        while True:
            info = self.status(handle)
            if info.status.is_terminal:
                return info
            if not killed and time.monotonic() - start >= grace:
                # --full: a signal alone would spare the batch shell itself.
                self._run("scancel", "--signal=KILL", "--full", handle, check=False)
                killed = True
            if time.monotonic() >= deadline:
                raise LauncherError(
                    f"job {handle} is still {info.status} {self.stop_timeout:g}s after "
                    "scancel: check the node (scontrol show node) and slurmd's log"
                )
            time.sleep(self.poll_interval)
