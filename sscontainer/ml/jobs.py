"""The worker's side of the module's job protocol (``sscontainer/db/redisai/PROTOCOL.md``).

:func:`parse_job` reads one job of an ``SSC.JOBTAKE`` reply (its input tensors
included); :func:`done_command` and :func:`fail_command` build the reports. Keys are
bytes throughout: cluster keys may hold NUL bytes.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Array = np.ndarray[Any, Any]


def batch_dim(arrays: Sequence[Array]) -> int:
    """The first array's size along the batch dimension: 1 for none or a scalar."""
    if not arrays or arrays[0].ndim == 0:
        return 1
    return int(arrays[0].shape[0])
Command = tuple[Any, ...]

TAKE = "SSC.JOBTAKE"
ASSET = "SSC.ASSETGET"
DONE = "SSC.JOBDONE"
FAIL = "SSC.JOBFAIL"
WORKERS = "SSC.WORKERS"

# tensor dtypes of the module (RedisAI's names) <-> numpy
DTYPES: dict[str, np.dtype[Any]] = {
    "FLOAT": np.dtype("float32"), "DOUBLE": np.dtype("float64"), "INT8": np.dtype("int8"),
    "INT16": np.dtype("int16"), "INT32": np.dtype("int32"), "INT64": np.dtype("int64"),
    "UINT8": np.dtype("uint8"), "UINT16": np.dtype("uint16"), "BOOL": np.dtype("bool"),
}
_NAMES = {dtype: name for name, dtype in DTYPES.items()}
_BY_WIRE_NAME = {name.encode(): dtype for name, dtype in DTYPES.items()}


class OutputError(ValueError):
    """A result that cannot be stored as a tensor."""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def decode_tensor(dtype: Any, dims: Sequence[int], blob: bytes) -> Array:
    """A read-only array viewing ``blob`` (C order)."""
    kind = _BY_WIRE_NAME[dtype] if isinstance(dtype, bytes) else DTYPES[dtype]
    return np.frombuffer(blob, dtype=kind).reshape(dims)


@dataclass(slots=True)
class Job:
    """One taken job: a model run or a script call, with its inputs."""

    id: int
    kind: str  # MODEL | SCRIPT
    key: bytes
    version: str
    backend: str
    device: str
    batch_size: int
    min_batch_size: int
    min_batch_timeout: int
    fn: str
    inputs: list[Array]
    n_outputs: int
    waited_ms: int
    call: str = "POSITIONAL"  # POSITIONAL | LIST (SCRIPTRUN "$") | EXECUTE (SCRIPTEXECUTE)
    variadic: int = -1
    keys: list[str] = field(default_factory=list)
    args: list[str] = field(default_factory=list)
    arrived: float = field(default_factory=time.monotonic)

    @property
    def is_script(self) -> bool:
        return self.kind == "SCRIPT"

    @property
    def name(self) -> str:
        """The key as text, for messages."""
        return self.key.decode("utf-8", "backslashreplace")

    @property
    def asset(self) -> tuple[bytes, str]:
        return self.key, self.version

    @property
    def samples(self) -> int:
        """Its size along the batch dimension (what counts against ``batch_size``)."""
        return batch_dim(self.inputs)

    def signature(self) -> tuple[Any, ...] | None:
        """What must agree for jobs to share a batch (None: cannot be batched)."""
        if not self.inputs or any(a.ndim == 0 for a in self.inputs):
            return None
        return tuple((a.dtype.str, a.shape[1:]) for a in self.inputs)

    def arguments(self) -> list[Any]:
        """A script function's arguments for the job's calling convention."""
        if self.call == "EXECUTE":
            return [list(self.inputs), list(self.keys), list(self.args)]
        if self.call == "LIST" and 0 <= self.variadic <= len(self.inputs):
            return [*self.inputs[:self.variadic], list(self.inputs[self.variadic:])]
        return list(self.inputs)


def parse_job(reply: Sequence[Any]) -> Job:
    """One job of an ``SSC.JOBTAKE`` reply (17 elements, see PROTOCOL.md)."""
    inputs = [decode_tensor(dtype, dims, blob) for dtype, dims, blob in reply[10]]
    return Job(
        id=int(reply[0]), kind=_text(reply[1]), key=bytes(reply[2]), version=_text(reply[3]),
        backend=_text(reply[4]), device=_text(reply[5]), batch_size=int(reply[6]),
        min_batch_size=int(reply[7]), min_batch_timeout=int(reply[8]), fn=_text(reply[9]),
        inputs=inputs, n_outputs=int(reply[11]), waited_ms=int(reply[12]),
        call=_text(reply[13]), variadic=int(reply[14]),
        keys=[_text(k) for k in reply[15]], args=[_text(a) for a in reply[16]],
    )


@dataclass(frozen=True)
class Asset:
    """A model or script as ``SSC.ASSETGET`` returns it."""

    kind: str
    version: str
    backend: str
    device: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    payload: bytes  # model bytes, or script source


def parse_asset(reply: Sequence[Any]) -> Asset:
    return Asset(
        kind=_text(reply[0]), version=_text(reply[1]), backend=_text(reply[2]),
        device=_text(reply[3]), inputs=tuple(_text(n) for n in reply[4]),
        outputs=tuple(_text(n) for n in reply[5]), payload=bytes(reply[6]),
    )


def encode_output(array: Array) -> list[Any]:
    """``<dtype> <ndims> <d1>...<dn> <blob>`` for one output; OutputError if it cannot be."""
    data = np.ascontiguousarray(array)
    if not data.dtype.isnative:
        data = data.astype(data.dtype.newbyteorder("="))
    name = _NAMES.get(data.dtype)
    if name is None:
        raise OutputError(
            f"an output of dtype {data.dtype} cannot be stored as a tensor (use one of "
            f"{', '.join(DTYPES)})"
        )
    if 0 in data.shape:
        raise OutputError(f"an output of shape {data.shape} is empty: tensors have no empty dims")
    flat: Any = data.reshape(-1)  # numpy's stubs do not declare the buffer protocol
    return [name, data.ndim, *data.shape, memoryview(flat).cast("B")]


def done_command(job_id: int, duration_us: int, samples: int, outputs: Sequence[Array]) -> Command:
    """``SSC.JOBDONE``; OutputError when an output cannot be stored."""
    args: list[Any] = [DONE, job_id, max(0, duration_us), max(0, samples), len(outputs)]
    for output in outputs:
        args.extend(encode_output(output))
    return tuple(args)


def fail_command(job_id: int, message: str) -> Command:
    return (FAIL, job_id, " ".join(message.split()) or "the inference worker failed")


def take_command(device: str, max_jobs: int, block_ms: int) -> Command:
    return (TAKE, device, max_jobs, max(0, block_ms))


def batchable(job: Job) -> bool:
    """Whether ``job`` may share a run with others (a model stored with a batch size)."""
    return not job.is_script and job.batch_size > 0
