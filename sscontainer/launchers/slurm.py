"""The Slurm launcher: every Step becomes an sbatch script, state comes from squeue/scontrol.

One template (``templates/sbatch.sh.j2``) renders both a single step and a job
array (one member per task, chosen by ``$SLURM_ARRAY_TASK_ID``). Every value
lands in the script through ``shlex.quote`` (or sbatch's own quoting for
``#SBATCH`` lines), so nothing a user writes can become shell code.

Slurm forgets a finished job after ``MinJobAge`` (300 s by default) and small
clusters often have no accounting, so the launcher keeps what it last saw, asks
``sacct`` when it exists, and finally reads the exit code the script recorded.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from ..errors import LauncherError, SSConfigError
from ..names import validate_name
from ..status import Status
from . import slurm_query as q
from .base import JobInfo
from .docker import container_user, share_run_dir
from .runtimes import check_runtime, wrap_argv
from .step import Step

_ENV_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# #SBATCH words sbatch reads as they are; anything else is double-quoted.
_PLAIN_DIRECTIVE = re.compile(r"[A-Za-z0-9_./:=,@%+-]+")


# --- rendering ----------------------------------------------------------------------
def _sbatch_arg(arg: str) -> str:
    """One #SBATCH word, quoted the way sbatch parses it (double quotes, backslash)."""
    if any(c in arg for c in "\n\r\0"):
        raise SSConfigError(
            f"batch argument {arg!r} holds a line break: an #SBATCH line cannot carry it; "
            "remove the newline"
        )
    if _PLAIN_DIRECTIVE.fullmatch(arg):
        return arg
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _templates_dir() -> Path:
    """Shipped templates (wheel), else the repository's top-level templates/ (editable)."""
    shipped = resources.files("sscontainer") / "templates"
    if shipped.is_dir() and (shipped / "sbatch.sh.j2").is_file():
        return Path(str(shipped))
    return Path(__file__).resolve().parents[2] / "templates"


@lru_cache(maxsize=1)
def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_templates_dir())),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # a shell script: values are shlex-quoted instead
    )
    env.filters["sh"] = shlex.quote
    env.filters["sbatch_arg"] = _sbatch_arg
    return env.get_template("sbatch.sh.j2")


# Short spellings of the options resource_directives would otherwise add twice.
_SHORT_FLAGS = {"-N": "--nodes", "-n": "--ntasks", "-c": "--cpus-per-task", "-t": "--time",
                "-G": "--gpus"}  # fmt: skip


def directive_lines(args: Sequence[str]) -> list[list[str]]:
    """Group sbatch args into #SBATCH lines: ``-p debug`` (two elements) shares one line."""
    lines: list[list[str]] = []
    for arg in args:
        previous = lines[-1] if lines else None
        if (
            previous is not None
            and len(previous) == 1
            and previous[0].startswith("-")
            and "=" not in previous[0]
            and not arg.startswith("-")
        ):
            previous.append(arg)
        else:
            lines.append([arg])
    return lines


def resource_directives(step: Step) -> list[str]:
    """sbatch options for ``step.resources`` (those ``batch_args`` do not set already)."""
    given = {arg.split("=", 1)[0] for arg in step.batch_args}
    given |= {_SHORT_FLAGS[flag] for flag in given if flag in _SHORT_FLAGS}
    res = step.resources
    wanted = [
        ("--nodes", res.nodes),
        ("--ntasks", res.ntasks),
        ("--ntasks-per-node", res.tasks_per_node),
        ("--cpus-per-task", res.cpus_per_task),
        ("--time", res.walltime),
        ("--gpus", res.gpus or None),
    ]
    return [f"{flag}={value}" for flag, value in wanted if value is not None and flag not in given]


def command_argv(step: Step, runtime: str) -> list[str]:
    """What the script runs: ``step.argv``, wrapped in a container runtime when it has an image."""
    if not step.argv:
        raise SSConfigError(f"step {step.name!r} has an empty argv: nothing to run")
    if step.image:
        return wrap_argv(step, step.runtime or runtime)
    return list(step.argv)


def exit_file(step: Step) -> str:
    """Where the script records the step's exit code."""
    return os.path.join(os.path.abspath(step.cwd), f"{step.name}.exitcode")


def _member(step: Step, runtime: str) -> dict[str, Any]:
    validate_name(step.name, "step name")
    for key in step.env:
        if not _ENV_KEY.fullmatch(key):
            raise SSConfigError(
                f"environment variable name {key!r} of {step.name!r} is not valid: use "
                "letters, digits and '_' and do not start with a digit"
            )
    return {
        "name": step.name,
        "cwd": os.path.abspath(step.cwd),
        "out": os.path.abspath(step.out),
        "err": os.path.abspath(step.err),
        "env": sorted(step.env.items()),
        "argv": command_argv(step, runtime),
        "exit_file": exit_file(step),
    }


def script_path(step: Step) -> str:
    return os.path.join(os.path.abspath(step.cwd), f"{step.name}.sbatch")


def render_batch_script(step: Step, runtime: str = "apptainer") -> str:
    """The sbatch script for one step."""
    member = _member(step, runtime)
    directives = [
        f"--job-name={step.name}",
        f"--output={member['out']}",
        f"--error={member['err']}",
        f"--chdir={member['cwd']}",
        *resource_directives(step),
        *step.batch_args,
    ]
    return _template().render(
        kind=f"step {step.name}",
        directives=directive_lines(directives),
        members=[member],
        array=False,
    )


def array_dir(steps: Sequence[Step]) -> str:
    """The directory an array's script and Slurm log go to: the members' common parent."""
    return os.path.commonpath([os.path.abspath(s.cwd) for s in steps])


def render_array_script(
    steps: Sequence[Step],
    name: str,
    runtime: str = "apptainer",
    max_parallel: int | None = None,
) -> str:
    """One job array for ``steps``: task ``i`` runs ``steps[i]`` (own cwd, out and err).

    All members share the first step's resources and batch args (one allocation
    request per array); members that differ raise SSConfigError.
    """
    if not steps:
        raise SSConfigError("a job array needs at least one step")
    validate_name(name, "array name")
    first = steps[0]
    for step in steps[1:]:
        if step.batch_args != first.batch_args or step.resources != first.resources:
            raise SSConfigError(
                f"array {name!r}: member {step.name!r} asks for other resources or batch "
                f"args than {first.name!r}; a job array has one request for all members: "
                "give them the same settings or start them as separate jobs"
            )
    folder = array_dir(steps)
    array = f"--array=0-{len(steps) - 1}"
    if max_parallel is not None:
        if max_parallel < 1:
            raise SSConfigError(f"max_parallel must be at least 1, got {max_parallel}")
        array += f"%{max_parallel}"
    log = os.path.join(folder, f"{name}-%A_%a.slurm.log")  # Slurm's own messages per task
    directives = [
        f"--job-name={name}",
        array,
        f"--output={log}",
        f"--error={log}",
        f"--chdir={folder}",
        *resource_directives(first),
        *first.batch_args,
    ]
    return _template().render(
        kind=f"job array {name}",
        directives=directive_lines(directives),
        members=[_member(step, runtime) for step in steps],
        array=True,
    )


# --- the launcher -------------------------------------------------------------------
@dataclass
class _Job:
    exit_file: str
    last: JobInfo


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
        Path(script).write_text(text, encoding="utf-8")
        out = self._run("sbatch", "--parsable", script).stdout.strip()
        job_id = out.split(";", 1)[0]
        if not job_id.isdigit():
            raise LauncherError(f"sbatch answered {out!r} instead of a job id for {script}")
        return job_id

    def _prepare(self, step: Step) -> None:
        """Directories the job writes to exist; no exit code left from an earlier run."""
        for folder in {step.cwd, os.path.dirname(step.out), os.path.dirname(step.err)}:
            os.makedirs(folder or ".", exist_ok=True)
        Path(exit_file(step)).unlink(missing_ok=True)
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
        """Watch a job an earlier driver submitted (its exit file is where it left it)."""
        if not q.is_handle(handle):
            raise LauncherError(f"{handle!r} is not a Slurm job handle (JOBID or JOBID_TASK)")
        self._jobs[handle] = _Job(exit_file(step), JobInfo(Status.QUEUED))

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
            text = Path(job.exit_file).read_text(encoding="utf-8")
        return q.job_info_from_exit_file(text)

    def status(self, handle: str) -> JobInfo:
        job = self._check_handle(handle)
        if job.last.status.is_terminal:
            return job.last  # terminal states do not change: no need to ask again
        done = self._run("scontrol", "show", "job", "-o", handle, check=False)
        record = None
        if done.returncode == 0:
            record = q.find_record(q.parse_scontrol_records(done.stdout), handle)
        elif "invalid job id" not in done.stderr.lower():
            raise LauncherError(f"scontrol show job {handle} failed: {done.stderr.strip()}")
        job.last = q.job_info_from_record(record) if record else self._forgotten(handle, job)
        return job.last

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
                states = self._states(pending)
                for handle in pending:
                    state = states.get(handle)
                    if state is None or state.is_terminal:
                        # Exit code (and the state of a forgotten job) via status().
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
