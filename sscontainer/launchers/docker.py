"""Docker launcher: every step runs as a container through the docker SDK.

Networking: each experiment gets its own bridge network (``ssc-<experiment>``)
when the engine can create one; containers reach each other by address on it,
and a database there listens on its container's every interface, without a password
(SmartRedis sends none; the network reaches this host and the experiment's containers
only: ``db/access.py``).
Where no bridge can be made (or ``SSCONTAINER_DOCKER_NETWORK=host``), the host
network is used: loopback TCP and Unix sockets on shared volumes work there
(port publishing does not matter: nothing is published). Which one is used is
said once on stderr.

The run directory (and every host mount) is bound at the same path inside the
container, so paths in config files and arguments mean the same thing on both
sides. Output is streamed into ``<name>.out``/``<name>.err`` through the logs
endpoint; the exit is noted by a waiting thread, so ``wait`` wakes on events.
"""

from __future__ import annotations

import os
import secrets
import sys
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from ..errors import LauncherError
from ..status import Status
from .base import JobInfo
from .step import Step

IMAGE_USER = (1000, 1000)  # the non-root user sscontainer's images create
HOST_NETWORK = "host"
NETWORK_SETTING = "SSCONTAINER_DOCKER_NETWORK"  # auto (default) | host | bridge


def _engine() -> Any:
    try:
        import docker
    except ImportError as exc:  # pragma: no cover - docker is a dependency
        raise LauncherError("the docker launcher needs the docker SDK: pip install docker") from exc
    try:
        client = docker.from_env(timeout=60)
        client.ping()
    except Exception as exc:
        raise LauncherError(
            f"no Docker Engine answers ({exc}): install docker.io and start dockerd "
            "(or set DOCKER_HOST), then try again"
        ) from exc
    return client


def container_user() -> tuple[int, int]:
    """The caller's uid/gid, so files written are the user's; never root."""
    uid, gid = os.getuid(), os.getgid()
    return IMAGE_USER if uid == 0 else (uid, gid)


def share_run_dir(step: Step, uid: int, gid: int) -> None:
    """Let the container's user write the run directory a root driver created."""
    os.makedirs(step.cwd, exist_ok=True)
    if os.getuid() == 0:
        os.chown(step.cwd, uid, gid)
        for entry in os.scandir(step.cwd):
            if entry.is_file(follow_symlinks=False) or entry.is_dir(follow_symlinks=False):
                os.chown(entry.path, uid, gid)


@dataclass
class _Container:
    id: str
    step: Step
    done: threading.Event = field(default_factory=threading.Event)
    exit_code: int | None = None
    cancelled: bool = False
    error: str = ""


class DockerLauncher:
    """Runs steps as containers of their ``image``; labels let a later driver find them."""

    name = "docker"

    def __init__(self) -> None:
        self._client: Any = None
        self._containers: dict[str, _Container] = {}
        self._changed = threading.Condition()
        self._networks: dict[str, str] = {}  # experiment -> network name (or "host")

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = _engine()
        return self._client

    # --- start -----------------------------------------------------------------------
    def _mounts(self, step: Step) -> list[Any]:
        from docker.types import Mount as DockerMount

        mounts = [DockerMount(step.cwd, step.cwd, type="bind")]
        for m in step.mounts:
            if m.volume:
                mounts.append(DockerMount(m.target, m.source, type="volume", read_only=m.read_only))
            else:
                mounts.append(DockerMount(m.target, m.source, type="bind", read_only=m.read_only))
        return mounts

    # --- networks --------------------------------------------------------------------
    def network_for(self, labels: dict[str, str]) -> str:
        """The experiment's bridge network, created on first use; "host" when none can be."""
        import docker

        experiment = labels.get("sscontainer.experiment", "default")
        if experiment in self._networks:
            return self._networks[experiment]
        choice = os.environ.get(NETWORK_SETTING, "auto")
        if choice not in ("auto", "host", "bridge"):
            raise LauncherError(f"{NETWORK_SETTING}={choice!r}: use auto, host or bridge")
        name, why = HOST_NETWORK, f"{NETWORK_SETTING}=host"
        if choice != "host":
            name = f"ssc-{experiment}"
            try:
                if not self.client.networks.list(names=[name]):
                    self.client.networks.create(
                        name, driver="bridge", labels={"sscontainer.experiment": experiment}
                    )
            except docker.errors.APIError as exc:
                if choice == "bridge":
                    raise LauncherError(f"cannot create the bridge network {name}: {exc}") from exc
                name, why = HOST_NETWORK, f"no bridge network could be created ({exc})"
        if name == HOST_NETWORK:
            print(f"sscontainer: docker: using the host network: {why}", file=sys.stderr)
        else:
            print(f"sscontainer: docker: using the bridge network {name}", file=sys.stderr)
        self._networks[experiment] = name
        return name

    def release(self, labels: dict[str, str]) -> None:
        """Remove the experiment's bridge network once no container uses it."""
        import docker

        experiment = labels.get("sscontainer.experiment", "default")
        # a reconnected driver never looked the network up: it goes by its name
        name = self._networks.pop(experiment, f"ssc-{experiment}")
        if name == HOST_NETWORK:
            return
        try:
            self.client.networks.get(name).remove()
        except docker.errors.APIError:
            pass  # still in use (or gone already): the next start finds or recreates it

    def isolated(self, labels: dict[str, str]) -> bool:
        """Whether steps with these labels run on their own network (not the host's)."""
        return self.network_for(labels) != HOST_NETWORK

    def address_of(self, handle: str) -> str | None:
        """The container's address on its bridge network (None on the host network)."""
        record = self._record(handle)
        network = self.network_for(record.step.labels)
        if network == HOST_NETWORK:
            return None
        attrs = self.client.api.inspect_container(handle)
        address = attrs["NetworkSettings"]["Networks"][network]["IPAddress"]
        return str(address) or None

    def start(self, step: Step) -> str:
        if not step.image:
            raise LauncherError(
                f"{step.name}: the docker launcher runs images; this step has none "
                "(give the model container settings or build it with exp.build())"
            )
        import docker

        uid, gid = container_user()
        share_run_dir(step, uid, gid)
        for path in (step.out, step.err):  # fresh files now, appended to as output streams
            open(path, "wb").close()
        gpus = []
        if step.resources.gpus:
            gpus = [docker.types.DeviceRequest(count=step.resources.gpus, capabilities=[["gpu"]])]
        network = self.network_for(step.labels)
        try:
            container = self.client.containers.create(
                step.image,
                name=f"ssc-{step.labels.get('sscontainer.experiment', 'exp')}-{step.name}-"
                f"{secrets.token_hex(3)}",
                entrypoint=list(step.argv[:1]),
                command=list(step.argv[1:]),
                environment=dict(step.env),
                working_dir=step.cwd,
                user=f"{uid}:{gid}",
                network_mode=HOST_NETWORK if network == HOST_NETWORK else None,
                network=None if network == HOST_NETWORK else network,
                mounts=self._mounts(step),
                labels={**step.labels, "sscontainer.entity": step.name},
                device_requests=gpus or None,
                init=True,  # reaps zombies and forwards signals to the entity
            )
            container.start()
        except docker.errors.ImageNotFound as exc:
            raise LauncherError(
                f"{step.name}: image {step.image!r} does not exist: build it with "
                "`sscontainer build` or exp.build()"
            ) from exc
        except docker.errors.DockerException as exc:
            raise LauncherError(
                f"{step.name}: docker could not start the container: {exc}"
            ) from exc
        record = _Container(container.id, step)
        self._containers[container.id] = record
        threading.Thread(target=self._follow, args=(record,), daemon=True).start()
        return str(container.id)

    def _follow(self, record: _Container, copy_output: bool = True) -> None:
        """Stream the container's output to its files (unless adopted: an earlier
        driver did), then note how it ended."""
        try:
            # the logs endpoint replays from the start and follows: nothing printed
            # before the stream opened is lost (an attach can miss early output)
            outputs = ((record.step.out, True), (record.step.err, False)) if copy_output else ()
            copiers = [
                threading.Thread(target=self._copy_logs, args=(record.id, path, is_out))
                for path, is_out in outputs
            ]
            for copier in copiers:
                copier.start()
            result = self.client.api.wait(record.id)
            record.exit_code = int(result.get("StatusCode", -1))
            for copier in copiers:
                copier.join()
            # output and exit code are kept: the container itself has nothing left to give
            self.remove(record.id)
        except Exception as exc:  # the engine went away: report it, do not hang waiters
            record.error = str(exc)
        with self._changed:
            record.done.set()
            self._changed.notify_all()

    def _copy_logs(self, container_id: str, path: str, stdout: bool) -> None:
        stream = self.client.api.logs(
            container_id, stdout=stdout, stderr=not stdout, stream=True, follow=True
        )
        with open(path, "ab") as handle:
            for chunk in stream:
                handle.write(chunk)
                handle.flush()

    def adopt(self, handle: str, step: Step) -> None:
        record = _Container(handle, step)
        self._containers[handle] = record
        problem = self._not_ours(handle, step)
        if problem:  # never followed, stopped or removed: it is someone else's
            record.error = problem
            record.done.set()
            return
        threading.Thread(target=self._follow, args=(record, False), daemon=True).start()

    def _not_ours(self, handle: str, step: Step) -> str:
        """Why container ``handle`` is not the one ``step`` started ('' when it is): its
        labels must name the same entity and experiment."""
        import docker

        try:
            labels = self.client.api.inspect_container(handle)["Config"]["Labels"] or {}
        except docker.errors.NotFound:
            return "the container is gone"
        except docker.errors.DockerException as exc:
            return f"docker could not inspect it: {exc}"
        expected = {"sscontainer.entity": step.name}
        if "sscontainer.experiment" in step.labels:
            expected["sscontainer.experiment"] = step.labels["sscontainer.experiment"]
        if any(labels.get(k) != v for k, v in expected.items()):
            return "its labels name another entity or experiment: not touched"
        return ""

    # --- state -------------------------------------------------------------------------
    def _record(self, handle: str) -> _Container:
        try:
            return self._containers[handle]
        except KeyError:
            raise LauncherError(f"no container {handle!r} was started here") from None

    def status(self, handle: str) -> JobInfo:
        record = self._record(handle)
        if not record.done.is_set():
            return JobInfo(Status.RUNNING)
        if record.cancelled:
            return JobInfo(Status.CANCELLED, record.exit_code)
        if record.exit_code is None:
            return JobInfo(Status.FAILED, None, f"lost track of the container: {record.error}")
        ok = record.exit_code == 0
        return JobInfo(Status.COMPLETED if ok else Status.FAILED, record.exit_code)

    def stop(self, handle: str, grace: float = 5.0) -> JobInfo:
        import docker

        record = self._record(handle)
        if not record.done.is_set():
            record.cancelled = True
            try:
                self.client.api.stop(handle, timeout=max(1, int(round(grace))))
            except docker.errors.NotFound:
                pass
            record.done.wait(timeout=grace + 30)
        return self.status(handle)

    def wait(self, handles: Collection[str], timeout: float | None = None) -> set[str]:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._changed:
            while True:
                done = {h for h in handles if self._record(h).done.is_set()}
                if done or not handles:
                    return done
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return set()
                self._changed.wait(remaining)

    def remove(self, handle: str) -> None:
        """Delete a finished container (its output is already in the step's files)."""
        import docker

        try:
            self.client.api.remove_container(handle, force=True)
        except docker.errors.NotFound:
            pass
