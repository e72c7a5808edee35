"""Batch settings: how a group of entities is submitted to a workload manager.

As in SmartSim, every setter writes ``batch_args`` (``sbatch``'s options), so
``bs.batch_args["nodes"]`` is what the job asks for.
"""

from __future__ import annotations

import copy
import os
import shutil
from collections.abc import Iterable, Mapping

from ..errors import ArgumentTypeError, SSConfigError
from .checks import check_host_list, check_positive, check_walltime
from .run import ArgValue


def _word(value: object, what: str) -> str:
    if not isinstance(value, str) or not value or any(c.isspace() for c in value):
        raise SSConfigError(f"batch {what} must be one word, got {value!r}")
    return value


class BatchSettings:
    """A batch command and its options (``batch_args``); subclasses know their syntax."""

    def __init__(
        self,
        batch_cmd: str,
        batch_args: Mapping[str, ArgValue] | None = None,
        **kwargs: object,
    ) -> None:
        self._batch_cmd = batch_cmd
        self.batch_args = dict(batch_args or {})
        self._preamble: list[str] = []
        if kwargs.get("nodes"):
            self.set_nodes(kwargs["nodes"])  # type: ignore[arg-type]
        if kwargs.get("queue"):
            self.set_queue(kwargs["queue"])  # type: ignore[arg-type]
        if kwargs.get("time"):
            self.set_walltime(kwargs["time"])  # type: ignore[arg-type]
        if kwargs.get("account"):
            self.set_account(kwargs["account"])  # type: ignore[arg-type]

    @property
    def batch_cmd(self) -> str:
        """The batch command, as a full path when it is on PATH here."""
        found = shutil.which(self._batch_cmd)
        return os.path.abspath(found) if found else self._batch_cmd

    def set_batch_command(self, command: str) -> None:
        self._batch_cmd = command

    @property
    def batch_args(self) -> dict[str, ArgValue]:
        return self._batch_args

    @batch_args.setter
    def batch_args(self, value: Mapping[str, ArgValue]) -> None:
        if not isinstance(value, Mapping):
            raise ArgumentTypeError(f"batch_args must be a dict, got {value!r}")
        for key in value:
            _word(key, "argument name")
            if key.startswith("-"):
                raise SSConfigError(f"batch argument {key!r}: give the name without dashes")
        self._batch_args = copy.deepcopy(dict(value))

    def set_nodes(self, num_nodes: int) -> None:
        raise NotImplementedError

    def set_hostlist(self, host_list: str | list[str]) -> None:
        raise NotImplementedError

    def set_queue(self, queue: str) -> None:
        raise NotImplementedError

    def set_walltime(self, walltime: str) -> None:
        raise NotImplementedError

    def set_account(self, account: str) -> None:
        raise NotImplementedError

    def format_batch_args(self) -> list[str]:
        raise NotImplementedError

    def set(self, arg: str, value: ArgValue = None) -> None:
        """Set one batch option (sscontainer's spelling of ``batch_args[arg] = value``)."""
        _word(arg, "argument name")
        if arg.startswith("-"):
            raise SSConfigError(f"batch argument {arg!r}: give the name without leading dashes")
        self._batch_args[arg] = value

    def add_preamble(self, lines: str | list[str]) -> None:
        """Lines run at the start of the batch script (module loads, exports)."""
        new = [lines] if isinstance(lines, str) else lines
        if not isinstance(new, list) or not all(isinstance(line, str) for line in new):
            raise ArgumentTypeError(f"preamble lines must be a str or a list of str: {lines!r}")
        if any("\0" in line for line in new):
            raise SSConfigError("a preamble line holds a NUL: remove it")
        self._preamble.extend(new)

    @property
    def preamble(self) -> Iterable[str]:
        return iter(list(self._preamble))

    def copy(self) -> BatchSettings:
        return copy.deepcopy(self)

    def __str__(self) -> str:
        text = f"Batch Command: {self._batch_cmd}"
        if self.batch_args:
            text += "\nBatch arguments:\n" + "\n".join(
                f"\t{key} = {value}" for key, value in self.batch_args.items()
            )
        return text


class SbatchSettings(BatchSettings):
    """Slurm ``sbatch`` options."""

    def __init__(
        self,
        nodes: int | None = None,
        time: str = "",
        account: str | None = None,
        batch_args: Mapping[str, ArgValue] | None = None,
        **kwargs: object,
    ) -> None:
        super().__init__(
            "sbatch", batch_args=batch_args, nodes=nodes, time=time, account=account, **kwargs
        )

    def set_nodes(self, num_nodes: int) -> None:
        self._batch_args["nodes"] = str(check_positive(num_nodes, "batch nodes"))

    def set_walltime(self, walltime: str) -> None:
        if walltime:
            self._batch_args["time"] = check_walltime(walltime, "batch time")

    def set_account(self, account: str) -> None:
        if account:
            self._batch_args["account"] = _word(account, "account")

    def set_partition(self, partition: str) -> None:
        self._batch_args["partition"] = _word(partition, "partition")

    def set_queue(self, queue: str) -> None:
        if queue:
            self.set_partition(queue)

    def set_cpus_per_task(self, cpus_per_task: int) -> None:
        self._batch_args["cpus-per-task"] = str(check_positive(cpus_per_task, "cpus_per_task"))

    def set_hostlist(self, host_list: str | list[str]) -> None:
        hosts = check_host_list(host_list)
        self._batch_args["nodelist"] = ",".join(_word(h, "host") for h in hosts)

    @property
    def nodes(self) -> int:
        return int(self._batch_args.get("nodes") or 1)

    @property
    def time(self) -> str:
        return str(self._batch_args.get("time") or "")

    @property
    def queue(self) -> str:
        return str(self._batch_args.get("partition") or "")

    @property
    def account(self) -> str:
        return str(self._batch_args.get("account") or "")

    def format_batch_args(self) -> list[str]:
        """``--name=value`` (``-p value`` for one letter); ``None`` makes a flag."""
        opts: list[str] = []
        for opt, value in self._batch_args.items():
            short = len(opt) == 1
            flag = ("-" if short else "--") + opt
            if value is None or value == "":
                opts.append(flag)
            elif short:
                opts += [flag, str(value)]
            else:
                opts.append(f"{flag}={value}")
        return opts
