"""Device names (``CPU``, ``GPU``, ``GPU:1``) and what a worker for one device needs.

A model stored for ``GPU`` runs on ``GPU:0``; ``GPU:k`` runs in the worker started
with ``CUDA_VISIBLE_DEVICES=k``, which sees that device as its only GPU. Multi-GPU
models and scripts are stored once per device under ``name.GPU:k`` (SmartRedis).
"""

from __future__ import annotations

import re

from ..errors import SSConfigError

CPU = "CPU"
_DEVICE = re.compile(r"(CPU|GPU)(?::(\d+))?")


def check_device(device: object, what: str = "device") -> str:
    """``"cpu"`` -> ``"CPU"``, ``"gpu:1"`` -> ``"GPU:1"``; anything else is an SSConfigError."""
    if not isinstance(device, str):
        raise SSConfigError(f"{what} must be a string such as 'CPU', 'GPU' or 'GPU:1'")
    match = _DEVICE.fullmatch(device.strip().upper())
    if match is None:
        raise SSConfigError(f"{what} {device!r} is not a device: use 'CPU', 'GPU' or 'GPU:<n>'")
    if match.group(1) == CPU and match.group(2) is not None:
        raise SSConfigError(f"{what} {device!r}: CPU takes no device number, use 'CPU'")
    return match.group(0)


def worker_device(device: str) -> str:
    """The worker that runs a model stored for ``device`` (``GPU`` means ``GPU:0``)."""
    device = check_device(device)
    return "GPU:0" if device == "GPU" else device


def check_count(value: object, what: str, minimum: int = 0) -> int:
    """An int >= ``minimum`` (bools are refused: ``True`` is not a batch size)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise SSConfigError(f"{what} must be an integer >= {minimum}, got {value!r}")
    return value


def multigpu_devices(first_gpu: int, num_gpus: int) -> list[str]:
    check_count(first_gpu, "first_gpu")
    check_count(num_gpus, "num_gpus", 1)
    return [f"GPU:{i}" for i in range(first_gpu, first_gpu + num_gpus)]


def multigpu_key(key: str, device: str) -> str:
    """SmartRedis's key for one device's copy of a multi-GPU model or script."""
    return f"{key}.{device}"


def gpu_devices(devices_per_node: int, first_device: int = 0) -> list[str]:
    """``GPU:first .. GPU:first+n-1``: the per-device workers a node runs."""
    return multigpu_devices(first_device, devices_per_node)


def gpu_index(device: str) -> int | None:
    """The device number of a worker device (None for the CPU)."""
    device = worker_device(device)
    return None if device == CPU else int(device.split(":", 1)[1])


def worker_env(device: str) -> dict[str, str]:
    """What a worker process for ``device`` adds to its environment."""
    index = gpu_index(device)
    if index is None:
        return {"CUDA_VISIBLE_DEVICES": ""}  # a CPU worker must not grab a GPU
    return {"CUDA_VISIBLE_DEVICES": str(index)}


def slug(device: str) -> str:
    """``GPU:1`` -> ``gpu1``: a device in file and step names."""
    return worker_device(device).replace(":", "").lower()
