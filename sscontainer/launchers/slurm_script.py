"""Rendering Steps into sbatch scripts: one step, or a job array (one member per task).

One template (``templates/sbatch.sh.j2``) renders both; a member is chosen by
``$SLURM_ARRAY_TASK_ID``. Every value lands in the script through ``shlex.quote`` (or
sbatch's own quoting for ``#SBATCH`` lines), so nothing a user writes becomes shell code.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from ..errors import SSConfigError
from ..names import validate_name
from .runtimes import wrap_argv
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
                "-G": "--gpus", "-w": "--nodelist"}  # fmt: skip


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
        # the run's host list must be in the allocation its srun runs in
        ("--nodelist", ",".join(res.hostlist) or None),
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


def preamble_lines(step: Step) -> list[str]:
    """The preamble's lines: shell the user wrote, kept as given (as SmartSim does)."""
    if any("\0" in line for line in step.preamble):
        raise SSConfigError(f"the preamble of {step.name!r} holds a NUL: remove it")
    return [part for line in step.preamble for part in line.splitlines()]


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
        preamble=preamble_lines(step),
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
        if (step.batch_args, step.preamble, step.resources) != (
            first.batch_args, first.preamble, first.resources
        ):
            raise SSConfigError(
                f"array {name!r}: member {step.name!r} asks for other resources, batch "
                f"args or preamble than {first.name!r}; a job array has one request for all "
                "members: give them the same settings or start them as separate jobs"
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
        preamble=preamble_lines(first),
        members=[_member(step, runtime) for step in steps],
        array=True,
    )
