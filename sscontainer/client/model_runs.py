"""The commands behind the model and script calls, and how a run is carried out.

``AI.MODELEXECUTE key INPUTS n .. OUTPUTS m .. TIMEOUT <SR_MODEL_TIMEOUT>`` and
``AI.SCRIPTRUN key fn INPUTS .. OUTPUTS ..``, as SmartRedis sends them. In a Redis
Cluster the model/script has one copy per shard: the run uses the shard of the
first input, copies the inputs there as ``{P}.<input>.TMP``, runs on
``{P}.<name>`` and copies the outputs back, then deletes the temporary keys (also
when the run fails; SmartRedis leaves them behind then).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .backend import Backend
from .checks import typecheck
from .cluster import Cluster
from .error import ArgumentTypeError, ParameterError, RedisTimeoutError
from .keys import KeyBuilder
from .settings import model_timeout_ms
from .wire import Arg

Names = str | list[str] | None


def tensor_args(inputs: Names, outputs: Names) -> tuple[list[str], list[str]]:
    """``inputs``/``outputs`` as lists (None is empty, one name is a list of one)."""
    result = []
    for value, label in ((inputs, "inputs"), (outputs, "outputs")):
        if value is None:
            value = []
        typecheck(value, label, (list, str))
        names = [value] if isinstance(value, str) else list(value)
        for name in names:
            if not isinstance(name, str):
                raise ArgumentTypeError(f"Argument {label} holds {type(name)}, not only str")
        result.append(names)
    return result[0], result[1]


def device_arg(device: str) -> str:
    device = device.upper()
    if not device.startswith(("CPU", "GPU")):
        raise ArgumentTypeError("Device argument must start with either CPU or GPU")
    return device


def chunks(model: Any, size: int) -> list[Arg]:
    """The model's bytes in ``size``-byte pieces, without copying them."""
    if isinstance(model, str):
        model = model.encode()
    if not isinstance(model, (bytes, bytearray, memoryview)):
        raise ArgumentTypeError(f"Argument model is of type {type(model)}, not bytes")
    view = memoryview(model).cast("B")
    return [view[start:start + size] for start in range(0, view.nbytes, size)]


def modelstore_args(key: str, backend: str, device: str, batch: tuple[int, int, int], tag: str,
                    inputs: list[str], outputs: list[str], pieces: list[Arg]) -> list[Arg]:
    """``AI.MODELSTORE`` with SmartRedis's optional parts, in SmartRedis's order."""
    args: list[Arg] = ["AI.MODELSTORE", key, backend, device]
    if tag:
        args += ["TAG", tag]
    for value, word in zip(batch, ("BATCHSIZE", "MINBATCHSIZE", "MINBATCHTIMEOUT"),
                           strict=True):
        if value > 0:
            args += [word, value]
    if inputs:
        args += ["INPUTS", len(inputs), *inputs]
    if outputs:
        args += ["OUTPUTS", len(outputs), *outputs]
    return [*args, "BLOB", *pieces]


def gpu_keys(key: str, first_gpu: int, num_gpus: int) -> list[tuple[str, str]]:
    """``(key.GPU:<i>, GPU:<i>)`` for each GPU, then ``(key, GPU)``.

    SmartRedis stores GPUs ``first_gpu .. num_gpus - 1`` (its loop stops at
    ``num_gpus``) although runs use ``first_gpu + offset % num_gpus``; the keys
    here are those and the ones runs need, so both clients' runs find them.
    """
    last = max(num_gpus, first_gpu + num_gpus)
    return [(f"{key}.GPU:{i}", f"GPU:{i}") for i in range(first_gpu, last)] + [(key, "GPU")]


def run_key(key: str, offset: int, first_gpu: int, num_gpus: int) -> str:
    return f"{key}.GPU:{first_gpu + offset % num_gpus}"


def _command(fn: str | None, key: Arg, inputs: list[Any], outputs: list[Any]) -> list[Arg]:
    if fn is None:
        return ["AI.MODELEXECUTE", key, "INPUTS", len(inputs), *inputs, "OUTPUTS", len(outputs),
                *outputs, "TIMEOUT", model_timeout_ms()]
    return ["AI.SCRIPTRUN", key, fn, "INPUTS", *inputs, "OUTPUTS", *outputs]


def _check_done(reply: Any, key: Arg) -> None:
    if reply == b"TIMEDOUT":
        raise RedisTimeoutError(
            f"the run of {key!r} waited longer than SR_MODEL_TIMEOUT ({model_timeout_ms()} ms) "
            "in the database's queue and was not carried out"
        )


class RunMixin:
    """``_run``: what run_model / run_script (and their multi-GPU forms) do."""

    _db: Backend
    _keys: KeyBuilder
    _copy_tensor_key: Callable[[str | bytes, str | bytes], None]

    def _run(self, fn: str | None, key: str, inputs: list[str], outputs: list[str]) -> None:
        ins = [self._keys.tensor(name, True) for name in inputs]
        outs = [self._keys.tensor(name, False) for name in outputs]
        if not isinstance(self._db, Cluster):
            command = _command(fn, key, ins, outs)
            _check_done(self._db.call(key, *command), key)
            return
        if not ins:
            raise ParameterError("a run in a Redis Cluster needs at least one input tensor")
        self._run_on_shard(self._db, fn, key, ins, outs)

    def _run_on_shard(self, db: Cluster, fn: str | None, key: str, ins: list[str],
                      outs: list[str]) -> None:
        shard = db.shard_of(ins[0])
        tmp_ins = [shard.key(name) + b".TMP" for name in ins]
        tmp_outs = [shard.key(name) + b".TMP" for name in outs]
        model_key = shard.key(key)
        try:
            for src, tmp in zip(ins, tmp_ins, strict=True):
                self._copy_tensor_key(src, tmp)
            _check_done(db.call(model_key, *_command(fn, model_key, tmp_ins, tmp_outs)), key)
            for tmp, dest in zip(tmp_outs, outs, strict=True):
                self._copy_tensor_key(tmp, dest)
        finally:
            try:
                db.call(model_key, "DEL", *tmp_outs, *tmp_ins)
            except RuntimeError:
                pass  # the run's own outcome matters more than leftover temporary keys
