"""The sbatch script: directives, quoting, and hostile values run for real under bash."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sscontainer.errors import InvalidNameError, SSConfigError
from sscontainer.launchers.runtimes import wrap_argv
from sscontainer.launchers.slurm_script import (
    directive_lines,
    render_array_script,
    render_batch_script,
    resource_directives,
)
from sscontainer.launchers.step import Resources, Step

BASH = shutil.which("bash") or "/bin/bash"
# Writes what it received (argv, one env var, cwd) as JSON to got.json.
DUMP = (
    "import json, os, sys; json.dump({'argv': sys.argv[1:], 'env': os.environ.get('HOSTILE'),"
    " 'cwd': os.getcwd()}, open('got.json', 'w'))"
)


def hostile(tmp_path: Path) -> str:
    canary = tmp_path / "pwned"
    return (
        f"a b 'q' \"dq\" $(touch {canary}) `touch {canary}` ; touch {canary} \\\n"
        f"line2 '\"$HOME\"' * ${{X:-y}} \t end"
    )


def make_step(tmp_path: Path, **over: object) -> Step:
    cwd = tmp_path / "run dir 'q' $(x)"
    fields: dict[str, object] = {
        "name": "sim",
        "entity_type": "Model",
        "argv": ("python", "sim.py"),
        "cwd": str(cwd),
        "out": str(cwd / "sim.out"),
        "err": str(cwd / "sim.err"),
    }
    fields.update(over)
    return Step(**fields)  # type: ignore[arg-type]


def sbatch_lines(script: str) -> list[str]:
    return [line[len("#SBATCH ") :] for line in script.splitlines() if line.startswith("#SBATCH ")]


def bash_syntax_ok(script: str) -> None:
    done = subprocess.run([BASH, "-n"], input=script, text=True, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr


def test_directives_and_syntax(tmp_path: Path) -> None:
    step = make_step(
        tmp_path,
        resources=Resources(nodes=2, ntasks=4, cpus_per_task=2, walltime="00:10:00"),
        batch_args=("--time=01:00:00", "-p", "debug", "--exclusive"),
    )
    script = render_batch_script(step)
    assert script.startswith("#!/bin/bash\n")
    assert sbatch_lines(script) == [
        "--job-name=sim",
        f'"--output={step.out}"',  # spaces and quotes: sbatch's double quotes
        f'"--error={step.err}"',
        f'"--chdir={step.cwd}"',
        "--nodes=2",
        "--ntasks=4",
        "--cpus-per-task=2",
        "--time=01:00:00",  # batch_args win over Resources.walltime
        "-p debug",
        "--exclusive",
    ]
    bash_syntax_ok(script)


def test_sbatch_arg_quoting_and_newlines(tmp_path: Path) -> None:
    step = make_step(tmp_path, batch_args=('--comment=a "b" #c \\ d',))
    assert sbatch_lines(render_batch_script(step))[-1] == '"--comment=a \\"b\\" #c \\\\ d"'
    for bad in ("--comment=x\nrm -rf /", "--comment=x\r", "--comment=\0"):
        with pytest.raises(SSConfigError, match="line break"):
            render_batch_script(make_step(tmp_path, batch_args=(bad,)))


def test_newline_in_a_path_cannot_reach_a_directive(tmp_path: Path) -> None:
    with pytest.raises(SSConfigError, match="line break"):
        render_batch_script(make_step(tmp_path, cwd=str(tmp_path / "x\ntouch pwned")))


def test_directive_grouping_and_resource_defaults() -> None:
    assert directive_lines(["-p", "debug", "--exclusive", "-N", "2", "--x=1", "y"]) == [
        ["-p", "debug"], ["--exclusive"], ["-N", "2"], ["--x=1"], ["y"],
    ]  # fmt: skip
    step = Step(
        name="s", entity_type="Model", argv=("true",), cwd="/r", out="/r/o", err="/r/e",
        resources=Resources(nodes=1, ntasks=2, tasks_per_node=2, gpus=1), batch_args=("-n", "8"),
    )  # fmt: skip
    assert resource_directives(step) == ["--nodes=1", "--ntasks-per-node=2", "--gpus=1"]


def test_a_host_list_becomes_the_allocation_nodelist() -> None:
    def step(batch: tuple[str, ...]) -> Step:
        return Step(name="s", entity_type="Model", argv=("true",), cwd="/r", out="/r/o",
                    err="/r/e", resources=Resources(hostlist=("n3", "n4")), batch_args=batch)

    assert resource_directives(step(())) == ["--nodelist=n3,n4"]
    assert resource_directives(step(("-w", "n1"))) == []  # batch settings' own choice wins
    assert resource_directives(step(("--nodelist=n1",))) == []


def test_hostile_values_arrive_literally_when_the_script_runs(tmp_path: Path) -> None:
    value = hostile(tmp_path)
    step = make_step(
        tmp_path,
        argv=(sys.executable, "-c", DUMP, value, "", "--x=$(id)"),
        env={"HOSTILE": value},
    )
    script = render_batch_script(step)
    bash_syntax_ok(script)
    os.makedirs(step.cwd)
    # The script body runs as Slurm would run it (the #SBATCH lines are comments).
    done = subprocess.run([BASH, "-c", script], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    got = json.loads((Path(step.cwd) / "got.json").read_text())
    assert got == {"argv": [value, "", "--x=$(id)"], "env": value, "cwd": step.cwd}
    assert not (tmp_path / "pwned").exists()
    assert (Path(step.cwd) / "sim.exitcode").read_text() == "0\n"


def test_exit_code_is_passed_on_and_recorded(tmp_path: Path) -> None:
    step = make_step(tmp_path, argv=("sh", "-c", "exit 3"))
    os.makedirs(step.cwd)
    done = subprocess.run([BASH, "-c", render_batch_script(step)], check=False)
    assert done.returncode == 3
    assert (Path(step.cwd) / "sim.exitcode").read_text() == "3\n"


def test_container_command_is_the_quoted_wrapped_argv(tmp_path: Path) -> None:
    step = make_step(
        tmp_path, image="/img/sim.sif", env={"A": "x y", "B": "p,q"}, argv=("srun", "python")
    )
    script = render_batch_script(step, runtime="apptainer")
    expected = wrap_argv(step, "apptainer")
    assert expected[0] == "srun"
    commands = [line for line in script.splitlines() if line.startswith("srun ")]
    assert [shlex.split(line) for line in commands] == [expected]
    # The step's own runtime wins over the launcher's default.
    own = make_step(tmp_path, image="/img/rootfs", runtime="charliecloud")
    assert "ch-run" in render_batch_script(own, runtime="apptainer")


def test_bad_names_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidNameError):
        render_batch_script(make_step(tmp_path, name="../evil"))
    with pytest.raises(SSConfigError, match="not valid"):
        render_batch_script(make_step(tmp_path, env={"A;B": "x"}))


def array_steps(tmp_path: Path, value: str) -> list[Step]:
    steps = []
    for i in range(3):
        cwd = tmp_path / "ens" / f"m{i}"
        script = f"import os; open('mine.txt', 'w').write(os.environ['HOSTILE'] + '|{i}')"
        steps.append(
            Step(
                name=f"m{i}", entity_type="Model", argv=(sys.executable, "-c", script),
                cwd=str(cwd), out=str(cwd / "o.txt"), err=str(cwd / "e.txt"),
                env={"HOSTILE": value},
            )
        )  # fmt: skip
    return steps


def test_array_script_runs_only_its_member(tmp_path: Path) -> None:
    value = hostile(tmp_path)
    steps = array_steps(tmp_path, value)
    script = render_array_script(steps, "ens", max_parallel=2)
    bash_syntax_ok(script)
    lines = sbatch_lines(script)
    assert lines[:2] == ["--job-name=ens", "--array=0-2%2"]
    assert f"--chdir={tmp_path / 'ens'}" in lines
    for step in steps:
        os.makedirs(step.cwd)
    env = dict(os.environ, SLURM_ARRAY_TASK_ID="1")
    done = subprocess.run([BASH, "-c", script], env=env, check=False)
    assert done.returncode == 0
    assert (Path(steps[1].cwd) / "mine.txt").read_text() == value + "|1"
    assert not (Path(steps[0].cwd) / "mine.txt").exists()
    assert not (Path(steps[2].cwd) / "mine.txt").exists()
    assert (Path(steps[1].cwd) / "m1.exitcode").read_text() == "0\n"
    assert not (tmp_path / "pwned").exists()
    # A task id with no member fails loudly instead of running something else.
    env["SLURM_ARRAY_TASK_ID"] = "7"
    stray = subprocess.run([BASH, "-c", script], env=env, capture_output=True, text=True)
    assert stray.returncode == 2 and "no member for array task 7" in stray.stderr


def test_array_members_must_share_resources(tmp_path: Path) -> None:
    steps = array_steps(tmp_path, "v")
    odd = Step(**{**steps[2].__dict__, "resources": Resources(nodes=2)})
    with pytest.raises(SSConfigError, match="same settings"):
        render_array_script([steps[0], steps[1], odd], "ens")
    with pytest.raises(SSConfigError, match="at least one"):
        render_array_script([], "ens")


def test_the_preamble_runs_first_as_given(tmp_path: Path) -> None:
    """add_preamble's lines (SmartSim's batch preamble) run in the batch script, after the
    #SBATCH lines and before the step; a multi-line entry is several lines."""
    out = tmp_path / "order.txt"
    step = make_step(tmp_path, argv=("sh", "-c", f'echo "step $FROM_PREAMBLE" >>{out}'),
                     preamble=(f"echo preamble >>{out}", "export FROM_PREAMBLE=1\n: second"))
    os.makedirs(step.cwd)
    script = render_batch_script(step, runtime="none")
    bash_syntax_ok(script)
    lines = script.splitlines()
    last_directive = max(i for i, line in enumerate(lines) if line.startswith("#SBATCH"))
    assert lines.index(f"echo preamble >>{out}") > last_directive
    assert ": second" in lines
    done = subprocess.run([BASH, "-c", script], check=False)
    assert done.returncode == 0
    assert out.read_text() == "preamble\nstep 1\n"
    with pytest.raises(SSConfigError, match="NUL"):
        render_batch_script(make_step(tmp_path, preamble=("a\0b",)))


def test_array_members_must_share_the_preamble(tmp_path: Path) -> None:
    steps = array_steps(tmp_path, "v")
    odd = Step(**{**steps[2].__dict__, "preamble": ("module load x",)})
    with pytest.raises(SSConfigError, match="same settings"):
        render_array_script([steps[0], steps[1], odd], "ens")
