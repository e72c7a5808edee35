"""Container runtimes: wrap a Step's argv in an ``apptainer``/``podman``/… command.

The API, for launchers and for mappings of other container classes onto it:

- ``wrap_argv(step, runtime)``: ``step.argv`` run inside ``step.image``;
- ``step.image`` (a ``.sif`` path or URI, a rootfs, an engine tag), ``step.mounts``
  (host path -> container path, read-only or not) and ``step.runtime_args`` (extra
  options placed right after ``exec``/``run``) are all a runtime needs;
- ``default_runtime(launcher)``: which runtime a launcher uses when the entity names
  none (Apptainer on Slurm, Docker on the docker launcher, none on local);
- ``register_runtime(name, wrapper)`` adds one.

Only argument lists are built here, never shell strings: an environment value
with spaces, quotes, ``$()`` or newlines stays one argv element. A launcher
that writes the result into a shell script must quote every element itself
(``shlex.quote``), as the Slurm launcher does.

The run directory (``step.cwd``) is bound at ``/work/<name>`` and used as the
working directory inside the container; every ``Mount`` is bound as well.

If ``argv`` starts with a parallel launcher (``srun``), the runtime goes
*after* it (``srun … apptainer exec IMAGE exe args``): one container per task,
the way HPC sites run containers. The length of that prefix can be given
explicitly with the label ``run_command_len`` (the number of leading argv
elements that form the run command); otherwise ``srun``'s options are parsed.

Podman on this kind of machine (no CAP_SYS_RESOURCE) fails every run with
``error setting rlimit type 7``; point ``CONTAINERS_CONF`` at a file holding::

    [containers]
    default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable

from ..errors import SSConfigError, SSUnsupportedError
from .docker import container_user
from .step import Step

RuntimeWrapper = Callable[[Step], list[str]]

_ENV_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Values Apptainer's ``--env`` flag takes literally: it is a Go "stringToString"
# flag that CSV-parses values holding '=' and trims '"'; anything else goes
# through APPTAINERENV_<K>, which Apptainer copies into the container verbatim.
_APPTAINER_SAFE_VALUE = re.compile(r"[A-Za-z0-9 _./:@%+-]*")

# srun short options that take a value as the next argument (srun(1)).
_SRUN_SHORT_WITH_VALUE = frozenset(
    "-A -B -C -c -D -d -e -G -i -J -L -m -M -N -n -o -p -q -r -S -T -t -W -w -x".split()
)
# srun long options that take a value as the next argument when not written --opt=value.
_SRUN_LONG_WITH_VALUE = frozenset(
    """--account --extra-node-info --constraint --cpus-per-task --chdir --dependency --error
    --gpus --input --job-name --licenses --distribution --clusters --nodes --ntasks --output
    --partition --qos --relative --core-spec --threads --time --wait --nodelist --exclude
    --ntasks-per-node --cpus-per-gpu --gpus-per-node --gpus-per-task --gres --mem
    --mem-per-cpu --mem-per-gpu --mpi --export --cpu-bind --mem-bind --het-group
    --reservation --signal --nice --comment --begin --deadline --time-min --tmp
    --ntasks-per-core --ntasks-per-socket --sockets-per-node --cores-per-socket
    --threads-per-core --network --switches --task-epilog --task-prolog --prolog --epilog
    --container --uid --gid --open-mode
    """.split()
)


# Which runtime runs an entity that names none, per launcher (None: on the host).
LAUNCHER_RUNTIMES: dict[str, str | None] = {"local": None, "docker": "docker", "slurm": "apptainer"}
NO_RUNTIME = "none"  # a container setting that asks for no container (Slurm: on the nodes)


def default_runtime(launcher: str) -> str | None:
    """The runtime ``launcher`` uses for an entity that names none (None: no container)."""
    if launcher not in LAUNCHER_RUNTIMES:
        raise SSConfigError(
            f"launcher {launcher!r} has no default container runtime: use one of "
            + ", ".join(LAUNCHER_RUNTIMES)
        )
    return LAUNCHER_RUNTIMES[launcher]


def workdir(step: Step) -> str:
    """The working directory inside the container: ``/work/<name>``."""
    return f"/work/{step.name}"


def run_command_len(argv: tuple[str, ...] | list[str], labels: dict[str, str]) -> int:
    """How many leading elements of ``argv`` form a run command such as ``srun -n 2``.

    The label ``run_command_len`` wins; otherwise ``srun``'s options are parsed
    (``--opt=value``, flags, and options known to take a separate value).
    Anything else has no run command: the runtime wraps the whole argv.
    """
    given = labels.get("run_command_len")
    if given is not None:
        if not given.isdigit() or int(given) >= len(argv):
            raise SSConfigError(
                f"label run_command_len={given!r} must be a whole number smaller than the "
                f"argv length ({len(argv)}): it counts the run command's elements (e.g. 3 "
                "for 'srun -n 2')"
            )
        return int(given)
    if not argv or os.path.basename(argv[0]) != "srun":
        return 0
    i = 1
    while i < len(argv) and argv[i].startswith("-"):
        arg = argv[i]
        if arg == "--":
            return i + 1
        if arg in _SRUN_SHORT_WITH_VALUE or arg in _SRUN_LONG_WITH_VALUE:
            i += 2
        else:
            i += 1  # a flag, --opt=value or -n2
    if i >= len(argv):
        raise SSConfigError(
            f"cannot find the executable in {list(argv)!r}: srun's options consume every "
            "argument; write options as --opt=value or set the label run_command_len"
        )
    return i


def _check_env(step: Step) -> None:
    for key in step.env:
        if not _ENV_KEY.fullmatch(key):
            raise SSConfigError(
                f"environment variable name {key!r} of {step.name!r} is not valid: use "
                "letters, digits and '_' and do not start with a digit"
            )


def _binds(step: Step, runtime: str, allow_volumes: bool) -> list[tuple[str, str, bool]]:
    """(source, target, read_only) for the run directory and every Mount, checked."""
    binds = [(step.cwd, workdir(step), False)]
    for mount in step.mounts:
        if mount.volume and not allow_volumes:
            raise SSUnsupportedError(
                f"{runtime} has no named volumes (mount {mount.source!r} of {step.name!r}): "
                "bind a host directory instead (Mount(source=<host path>, target=...))"
            )
        binds.append((mount.source, mount.target, mount.read_only))
    for source, target, _ in binds:
        for path in (source, target):
            # ':' separates source from target in every runtime's bind syntax, ','
            # separates binds for Apptainer: neither can be escaped.
            if ":" in path or "," in path or "\n" in path or not path:
                raise SSConfigError(
                    f"mount path {path!r} of {step.name!r} cannot be bound by {runtime}: "
                    "paths must be non-empty and hold no ':', ',' or newline; rename or "
                    "symlink the directory"
                )
    return binds


def _image(step: Step, runtime: str) -> str:
    if not step.image:
        raise SSConfigError(
            f"step {step.name!r} has no image to run with {runtime}: set the entity's "
            "image (or run it without a container runtime)"
        )
    return step.image


def _apptainer_like(program: str, env_prefix: str) -> RuntimeWrapper:
    def wrap(step: Step) -> list[str]:
        image = _image(step, program)
        host_env: list[str] = []
        argv = [program, "exec", *step.runtime_args]
        if step.resources.gpus > 0:
            argv.append("--nv")
        # --no-eval: values are not shell-evaluated inside the container ($() stays text).
        argv.append("--no-eval")
        for source, target, read_only in _binds(step, program, allow_volumes=False):
            argv += ["--bind", f"{source}:{target}" + (":ro" if read_only else "")]
        argv += ["--pwd", workdir(step)]
        for key, value in step.env.items():
            if _APPTAINER_SAFE_VALUE.fullmatch(value):
                argv += ["--env", f"{key}={value}"]
            else:
                host_env.append(f"{env_prefix}{key}={value}")
        argv.append(image)
        # `env NAME=VALUE` takes its arguments literally: no parsing on the way in.
        return (["env", *host_env] if host_env else []) + argv

    return wrap


def _charliecloud(step: Step) -> list[str]:
    image = _image(step, "charliecloud")
    # --env-no-expand: no $VAR expansion. ch-run strips one pair of enclosing single
    # quotes from a value, so every value is wrapped in one: 'v' arrives as v, exactly.
    argv = ["ch-run", "--env-no-expand", *step.runtime_args]
    for source, target, _ in _binds(step, "charliecloud", allow_volumes=False):
        # ch-run binds are read-write only; the target must exist in the image.
        argv += ["-b", f"{source}:{target}"]
    argv += ["--cd", workdir(step)]
    argv += [f"--set-env={key}='{value}'" for key, value in step.env.items()]
    return argv + [image, "--"]


def _engine(program: str) -> RuntimeWrapper:
    def wrap(step: Step) -> list[str]:
        image = _image(step, program)
        argv = [program, "run", "--rm", "--network", "host", *step.runtime_args]
        for source, target, read_only in _binds(step, program, allow_volumes=True):
            argv += ["-v", f"{source}:{target}" + (":ro" if read_only else "")]
        argv += ["-w", workdir(step)]
        for key, value in step.env.items():
            argv += ["-e", f"{key}={value}"]  # split at the first '=': the value is literal
        if program == "docker":
            uid, gid = container_user()  # the caller, or the image's user: never root
            argv += ["--user", f"{uid}:{gid}"]
            if step.resources.gpus > 0:
                argv += ["--gpus", str(step.resources.gpus)]
        else:
            if os.geteuid() != 0:  # keep-id is rootless-only: root's podman rejects it
                argv.append("--userns=keep-id")
            if step.resources.gpus > 0:
                argv += ["--device", "nvidia.com/gpu=all"]  # CDI, as podman documents
        return argv + [image]

    return wrap


RUNTIMES: dict[str, RuntimeWrapper] = {
    "apptainer": _apptainer_like("apptainer", "APPTAINERENV_"),
    "singularity": _apptainer_like("singularity", "SINGULARITYENV_"),
    "podman": _engine("podman"),
    "charliecloud": _charliecloud,
    "docker": _engine("docker"),
}


def register_runtime(name: str, wrapper: RuntimeWrapper) -> None:
    """Add a runtime: ``wrapper(step)`` returns the argv placed before the command."""
    RUNTIMES[name] = wrapper


def check_runtime(runtime: str) -> str:
    """Return ``runtime`` when it is known, else raise SSConfigError naming the valid ones."""
    if runtime not in RUNTIMES:
        raise SSConfigError(
            f"unknown container runtime {runtime!r}: choose one of {', '.join(sorted(RUNTIMES))}"
        )
    return runtime


def wrap_argv(step: Step, runtime: str) -> list[str]:
    """``step.argv`` run inside ``step.image`` with ``runtime``, as an argument list."""
    wrapper = RUNTIMES[check_runtime(runtime)]
    if not step.argv:
        raise SSConfigError(f"step {step.name!r} has an empty argv: nothing to run")
    _check_env(step)
    cut = run_command_len(step.argv, step.labels)
    return [*step.argv[:cut], *wrapper(step), *step.argv[cut:]]


__all__ = [
    "LAUNCHER_RUNTIMES",
    "NO_RUNTIME",
    "RUNTIMES",
    "RuntimeWrapper",
    "check_runtime",
    "default_runtime",
    "register_runtime",
    "run_command_len",
    "workdir",
    "wrap_argv",
]
