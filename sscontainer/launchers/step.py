"""A Step: the one plain-data object that crosses into a launcher."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Mount:
    """A host path (or a named volume) made visible inside a container."""

    source: str
    target: str
    read_only: bool = False
    volume: bool = False  # True: ``source`` names an engine volume, not a host path


@dataclass(frozen=True)
class Resources:
    """What a step asks of the scheduler (ignored by launchers that cannot use it)."""

    nodes: int | None = None
    ntasks: int | None = None
    tasks_per_node: int | None = None
    cpus_per_task: int | None = None
    walltime: str | None = None  # HH:MM:SS
    gpus: int = 0
    hostlist: tuple[str, ...] = ()  # nodes the step must run on (Slurm: --nodelist)


@dataclass(frozen=True)
class Step:
    """Everything needed to run one entity, and nothing about how.

    ``argv`` is the full launch command (run command such as ``srun`` + exe +
    args) as an argument list: never a shell string. ``env`` holds only the
    variables the entity adds to the inherited environment. When ``image`` is
    set the launcher (or a container runtime wrapping ``argv``) runs it inside
    that image with ``mounts`` bound and ``cwd`` as the working directory;
    ``runtime_args`` go right after the runtime's own command (``exec``, ``run``).
    """

    name: str
    entity_type: str
    argv: tuple[str, ...]
    cwd: str
    out: str
    err: str
    env: dict[str, str] = field(default_factory=dict)
    image: str | None = None
    runtime: str | None = None
    mounts: tuple[Mount, ...] = ()
    runtime_args: tuple[str, ...] = ()  # extra runtime options (``apptainer exec --contain``)
    resources: Resources = field(default_factory=Resources)
    batch_args: tuple[str, ...] = ()  # formatted batch options (e.g. sbatch flags) when batched
    preamble: tuple[str, ...] = ()  # the user's shell lines run first in the batch script
    labels: dict[str, str] = field(default_factory=dict)
