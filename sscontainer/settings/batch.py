"""Batch settings: how a group of entities is submitted to a workload manager."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping

from ..errors import SSConfigError
from .run import ArgValue, _long_opt, check_positive, check_walltime


class BatchSettings:
    """Scheduler-independent batch request (nodes, walltime, queue, account)."""

    batch_command = ""

    def __init__(
        self,
        nodes: int = 1,
        time: str = "",
        queue: str = "",
        account: str = "",
        batch_args: Mapping[str, ArgValue] | None = None,
    ) -> None:
        self.nodes = 1
        self.set_nodes(nodes)
        self.time = ""
        if time:
            self.set_walltime(time)
        self.queue = ""
        if queue:
            self.set_queue(queue)
        self.account = ""
        if account:
            self.set_account(account)
        self.batch_args: dict[str, ArgValue] = {}
        for key, value in (batch_args or {}).items():
            self.set(key, value)
        self.preamble: list[str] = []

    def set_nodes(self, nodes: int) -> None:
        self.nodes = check_positive(nodes, "batch nodes")

    def set_walltime(self, walltime: str) -> None:
        self.time = check_walltime(walltime, "batch time")

    def _check_word(self, value: str, what: str) -> str:
        if not isinstance(value, str) or not value or any(c.isspace() for c in value):
            raise SSConfigError(f"batch {what} must be one word, got {value!r}")
        return value

    def set_queue(self, queue: str) -> None:
        self.queue = self._check_word(queue, "queue")

    def set_account(self, account: str) -> None:
        self.account = self._check_word(account, "account")

    def set(self, arg: str, value: ArgValue = None) -> None:
        self._check_word(arg, "argument name")
        if arg.startswith("-"):
            raise SSConfigError(f"batch argument {arg!r}: give the name without leading dashes")
        self.batch_args[arg] = value

    def add_preamble(self, lines: str | Iterable[str]) -> None:
        """Lines run at the start of the batch script (module loads, exports)."""
        self.preamble.extend([lines] if isinstance(lines, str) else list(lines))

    def format_batch_args(self) -> list[str]:
        raise NotImplementedError

    def copy(self) -> BatchSettings:
        return copy.deepcopy(self)


class SbatchSettings(BatchSettings):
    """Slurm ``sbatch`` options."""

    batch_command = "sbatch"

    def set_partition(self, partition: str) -> None:
        self.set_queue(partition)

    def set_hostlist(self, host_list: str | Iterable[str]) -> None:
        hosts = [host_list] if isinstance(host_list, str) else list(host_list)
        self.set("nodelist", ",".join(self._check_word(h, "host") for h in hosts))

    def format_batch_args(self) -> list[str]:
        args = [f"--nodes={self.nodes}"]
        if self.time:
            args.append(f"--time={self.time}")
        if self.queue:
            args.append(f"--partition={self.queue}")
        if self.account:
            args.append(f"--account={self.account}")
        for key, value in self.batch_args.items():
            args.extend(_long_opt(key, value))
        return args
