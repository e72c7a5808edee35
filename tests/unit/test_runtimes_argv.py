"""Container runtime argv: exact flags for binds, env, GPUs; hostile values stay one element."""

from __future__ import annotations

import os

import pytest

from sscontainer.errors import SSConfigError, SSUnsupportedError
from sscontainer.launchers.docker import container_user
from sscontainer.launchers.runtimes import RUNTIMES, register_runtime, run_command_len, wrap_argv
from sscontainer.launchers.step import Mount, Resources, Step

HOSTILE = "a b 'q' \"dq\" $(touch /tmp/pwned) `id` ; x=y, z\nline2 \\ *"


def make_step(**over: object) -> Step:
    fields: dict[str, object] = {
        "name": "sim",
        "entity_type": "Model",
        "argv": ("python", "sim.py", "--n", "3"),
        "cwd": "/runs/sim",
        "out": "/runs/sim/sim.out",
        "err": "/runs/sim/sim.err",
        "env": {"OMP_NUM_THREADS": "1"},
        "image": "/images/sim.sif",
        "mounts": (Mount("/data", "/data", read_only=True), Mount("/scratch", "/scratch")),
    }
    fields.update(over)
    return Step(**fields)  # type: ignore[arg-type]


def test_apptainer_exact_argv() -> None:
    assert wrap_argv(make_step(), "apptainer") == [
        "apptainer", "exec", "--no-eval",
        "--bind", "/runs/sim:/work/sim",
        "--bind", "/data:/data:ro",
        "--bind", "/scratch:/scratch",
        "--pwd", "/work/sim",
        "--env", "OMP_NUM_THREADS=1",
        "/images/sim.sif",
        "python", "sim.py", "--n", "3",
    ]  # fmt: skip


def test_apptainer_gpu_adds_nv() -> None:
    argv = wrap_argv(make_step(resources=Resources(gpus=2), mounts=()), "apptainer")
    assert argv[:4] == ["apptainer", "exec", "--nv", "--no-eval"]
    assert wrap_argv(make_step(), "apptainer").count("--nv") == 0


def test_singularity_uses_same_flags() -> None:
    apptainer = wrap_argv(make_step(), "apptainer")
    singularity = wrap_argv(make_step(), "singularity")
    assert singularity == ["singularity", *apptainer[1:]]


def test_apptainer_hostile_env_goes_through_env_prefix_verbatim() -> None:
    argv = wrap_argv(make_step(env={"SAFE": "x", "BAD": HOSTILE}), "apptainer")
    # --env would CSV-parse the value: it travels as APPTAINERENV_BAD instead, one element.
    assert argv[:2] == ["env", f"APPTAINERENV_BAD={HOSTILE}"]
    assert argv[2:4] == ["apptainer", "exec"]
    assert "SAFE=x" in argv
    assert not any(a.startswith("BAD=") for a in argv)
    singularity = wrap_argv(make_step(env={"BAD": HOSTILE}), "singularity")
    assert singularity[:3] == ["env", f"SINGULARITYENV_BAD={HOSTILE}", "singularity"]


def test_charliecloud_argv_and_quoting() -> None:
    argv = wrap_argv(make_step(env={"A": "1", "B": HOSTILE}), "charliecloud")
    assert argv == [
        "ch-run", "--env-no-expand",
        "-b", "/runs/sim:/work/sim",
        "-b", "/data:/data",
        "-b", "/scratch:/scratch",
        "--cd", "/work/sim",
        "--set-env=A='1'",
        f"--set-env=B='{HOSTILE}'",
        "/images/sim.sif", "--",
        "python", "sim.py", "--n", "3",
    ]  # fmt: skip


def test_docker_argv() -> None:
    argv = wrap_argv(make_step(env={"A": HOSTILE}, resources=Resources(gpus=1)), "docker")
    assert argv == [
        "docker", "run", "--rm", "--network", "host",
        "-v", "/runs/sim:/work/sim",
        "-v", "/data:/data:ro",
        "-v", "/scratch:/scratch",
        "-w", "/work/sim",
        "-e", f"A={HOSTILE}",
        "--user", "{}:{}".format(*container_user()),  # never root: the image user for root
        "--gpus", "1",
        "/images/sim.sif",
        "python", "sim.py", "--n", "3",
    ]  # fmt: skip


def test_podman_argv_and_named_volume() -> None:
    step = make_step(mounts=(Mount("cache", "/cache", volume=True),), env={"A": "1"})
    argv = wrap_argv(step, "podman")
    assert argv[:5] == ["podman", "run", "--rm", "--network", "host"]
    assert argv[5:9] == ["-v", "/runs/sim:/work/sim", "-v", "cache:/cache"]
    assert argv[9:13] == ["-w", "/work/sim", "-e", "A=1"]
    # keep-id maps the user in rootless podman; root's podman refuses it.
    assert ("--userns=keep-id" in argv) == (os.geteuid() != 0)
    assert argv[-5:] == ["/images/sim.sif", "python", "sim.py", "--n", "3"]


@pytest.mark.parametrize("runtime", ["apptainer", "singularity", "charliecloud"])
def test_named_volume_unsupported_for_daemonless_runtimes(runtime: str) -> None:
    step = make_step(mounts=(Mount("cache", "/cache", volume=True),))
    with pytest.raises(SSUnsupportedError, match="bind a host directory"):
        wrap_argv(step, runtime)


def test_unknown_runtime_names_the_valid_ones() -> None:
    with pytest.raises(SSConfigError) as info:
        wrap_argv(make_step(), "rkt")
    message = str(info.value)
    assert "'rkt'" in message
    for name in ("apptainer", "charliecloud", "docker", "podman", "singularity"):
        assert name in message


@pytest.mark.parametrize("path", ["/data:evil", "/a,b", ""])
def test_unbindable_paths_are_refused(path: str) -> None:
    with pytest.raises(SSConfigError, match="cannot be bound"):
        wrap_argv(make_step(mounts=(Mount(path, "/x"),)), "apptainer")


def test_missing_image_and_bad_env_name() -> None:
    with pytest.raises(SSConfigError, match="no image"):
        wrap_argv(make_step(image=None), "docker")
    with pytest.raises(SSConfigError, match="not valid"):
        wrap_argv(make_step(env={"1BAD": "x"}), "docker")
    with pytest.raises(SSConfigError, match="empty argv"):
        wrap_argv(make_step(argv=()), "docker")


def test_runtime_goes_after_srun() -> None:
    argv = ("srun", "--ntasks=2", "-N", "1", "--exclusive", "python", "sim.py")
    wrapped = wrap_argv(make_step(argv=argv, mounts=(), env={}), "apptainer")
    assert wrapped[:5] == ["srun", "--ntasks=2", "-N", "1", "--exclusive"]
    assert wrapped[5:7] == ["apptainer", "exec"]
    assert wrapped[-3:] == ["/images/sim.sif", "python", "sim.py"]


def test_run_command_len_label_and_errors() -> None:
    argv = ("mpirun", "-n", "4", "python", "sim.py")
    assert run_command_len(argv, {}) == 0  # not srun: the runtime wraps everything
    assert run_command_len(argv, {"run_command_len": "3"}) == 3
    wrapped = wrap_argv(make_step(argv=argv, labels={"run_command_len": "3"}), "charliecloud")
    assert wrapped[:4] == ["mpirun", "-n", "4", "ch-run"]
    with pytest.raises(SSConfigError, match="run_command_len"):
        run_command_len(argv, {"run_command_len": "5"})
    with pytest.raises(SSConfigError, match="cannot find the executable"):
        run_command_len(("srun", "-n", "2"), {})
    assert run_command_len(("srun", "--", "-weird-exe"), {}) == 2


def test_register_runtime() -> None:
    def echo_runtime(step: Step) -> list[str]:
        return ["my-runtime", step.image or ""]

    register_runtime("my-runtime", echo_runtime)
    try:
        assert wrap_argv(make_step(), "my-runtime") == [
            "my-runtime", "/images/sim.sif", "python", "sim.py", "--n", "3",
        ]  # fmt: skip
    finally:
        del RUNTIMES["my-runtime"]


def test_docker_never_runs_as_root() -> None:
    uid, gid = container_user()
    assert uid != 0 and gid != 0
    if os.getuid() != 0:
        assert (uid, gid) == (os.getuid(), os.getgid())  # files written are the caller's
