"""Reading Slurm's answers: job states, exit codes, scontrol/squeue/sacct output.

Pure parsing, no commands run here, so every rule is unit-testable. Handles
are job ids (``1234``) or array tasks (``1234_5``), as squeue prints them.
"""

from __future__ import annotations

import re

from ..status import Status
from .base import JobInfo

# Slurm job states (squeue(1) "JOB STATE CODES") -> sscontainer Status.
SLURM_STATES: dict[str, Status] = {
    "PENDING": Status.QUEUED,
    "REQUEUED": Status.QUEUED,
    "REQUEUE_FED": Status.QUEUED,
    "REQUEUE_HOLD": Status.QUEUED,
    "RESV_DEL_HOLD": Status.QUEUED,
    "CONFIGURING": Status.QUEUED,
    "RUNNING": Status.RUNNING,
    "COMPLETING": Status.RUNNING,
    "SIGNALING": Status.RUNNING,
    "STAGE_OUT": Status.RUNNING,
    "RESIZING": Status.RUNNING,
    "SUSPENDED": Status.PAUSED,
    "STOPPED": Status.PAUSED,
    "COMPLETED": Status.COMPLETED,
    "FAILED": Status.FAILED,
    "TIMEOUT": Status.FAILED,
    "NODE_FAIL": Status.FAILED,
    "OUT_OF_MEMORY": Status.FAILED,
    "BOOT_FAIL": Status.FAILED,
    "DEADLINE": Status.FAILED,
    "PREEMPTED": Status.FAILED,
    "SPECIAL_EXIT": Status.FAILED,
    "CANCELLED": Status.CANCELLED,
    "REVOKED": Status.CANCELLED,
}

# A key in `scontrol show job -o` output: a word such as JobState, CPUs/Task or
# AllocNode:Sid right after a space (or the line start) and followed by '='.
_KEY = re.compile(r"(?:^|(?<=\s))([A-Za-z][A-Za-z0-9_:/]*)=")
_HANDLE = re.compile(r"\d+(?:_\d+)?")


def map_state(state: str) -> Status:
    """Slurm state text -> Status. Accepts sacct's ``CANCELLED by 0`` and ``RUNNING+``.

    An unknown state is reported as RUNNING (not terminal): waiting a little
    longer is safer than declaring a job over that is not.
    """
    word = state.strip().split(" ", 1)[0].rstrip("+").upper()
    return SLURM_STATES.get(word, Status.RUNNING)


def parse_exit_code(text: str) -> int | None:
    """``ExitCode=N:S`` -> N, or ``-S`` when a signal ended the job (``0:15`` -> -15)."""
    match = re.fullmatch(r"\s*(\d+):(\d+)\s*", text)
    if not match:
        return None
    code, signal = int(match.group(1)), int(match.group(2))
    return -signal if signal and not code else code


def is_handle(handle: str) -> bool:
    """True for ``1234`` and ``1234_5``: the only shapes passed to Slurm commands."""
    return bool(_HANDLE.fullmatch(handle))


def base_job_id(handle: str) -> str:
    """``1234_5`` -> ``1234``."""
    return handle.split("_", 1)[0]


def parse_scontrol_records(text: str) -> list[dict[str, str]]:
    """``scontrol show job -o`` output: one ``{key: value}`` dict per line."""
    records = []
    for line in text.splitlines():
        keys = list(_KEY.finditer(line))
        if not keys:
            continue
        record = {}
        for here, following in zip(keys, keys[1:] + [None], strict=True):
            end = following.start() if following else len(line)
            record[here.group(1)] = line[here.end() : end].strip()
        records.append(record)
    return records


def task_in_spec(task: int, spec: str) -> bool:
    """Whether array task ``task`` is in a spec such as ``0-9``, ``1,3-4`` or ``0-9%2``."""
    for part in spec.split("%", 1)[0].split(","):
        low, _, high = part.partition("-")
        low = low.strip("[] ")
        high = (high or low).strip("[] ")
        step = 1
        if ":" in high:
            high, step_text = high.split(":", 1)
            step = int(step_text)
        if low.isdigit() and high.isdigit() and task in range(int(low), int(high) + 1, step):
            return True
    return False


def find_record(records: list[dict[str, str]], handle: str) -> dict[str, str] | None:
    """The record describing ``handle``; a pending array's group record covers its tasks."""
    job, _, task = handle.partition("_")
    for record in records:
        array_job = record.get("ArrayJobId")
        task_spec = record.get("ArrayTaskId", "")
        if not task:
            if record.get("JobId") == job and not array_job:
                return record
        elif array_job == job and (task_spec == task or task_in_spec(int(task), task_spec)):
            return record
    return None


def job_info_from_record(record: dict[str, str]) -> JobInfo:
    """JobInfo from one scontrol record (exit code only once the job is over)."""
    status = map_state(record.get("JobState", ""))
    reason = record.get("Reason", "")
    detail = "" if reason in ("", "None", "(null)") else reason
    returncode = parse_exit_code(record.get("ExitCode", "")) if status.is_terminal else None
    return JobInfo(status=status, returncode=returncode, detail=detail)


def parse_squeue(text: str) -> dict[str, str]:
    """``squeue -h -r -o '%i|%T'`` output -> {handle: state}."""
    states = {}
    for line in text.splitlines():
        handle, sep, state = line.strip().partition("|")
        if sep:
            states[handle] = state
    return states


def parse_sacct(text: str, handle: str) -> JobInfo | None:
    """``sacct -n -P -X -o JobID,State,ExitCode`` output -> JobInfo for ``handle``."""
    for line in text.splitlines():
        fields = line.strip().split("|")
        if len(fields) >= 3 and fields[0] == handle:
            status = map_state(fields[1])
            returncode = parse_exit_code(fields[2]) if status.is_terminal else None
            return JobInfo(status=status, returncode=returncode, detail="from sacct")
    return None


def job_info_from_exit_file(text: str | None) -> JobInfo:
    """A job Slurm no longer remembers, judged by the exit code its script recorded."""
    if text is not None and text.strip().lstrip("-").isdigit():
        code = int(text.strip())
        status = Status.COMPLETED if code == 0 else Status.FAILED
        return JobInfo(status=status, returncode=code, detail="from the recorded exit code")
    return JobInfo(
        status=Status.FAILED,
        returncode=None,
        detail=(
            "Slurm no longer knows this job and it recorded no exit code (cancelled, "
            "timed out or killed); enable accounting (sacct) or raise MinJobAge"
        ),
    )


def node_of_record(record: dict[str, str]) -> str:
    """The node a job's batch script runs on (``BatchHost``), "" when not placed yet."""
    host = record.get("BatchHost", "")
    return "" if host in ("", "(null)", "None") else host


def parse_node_addresses(text: str) -> dict[str, str]:
    """``sinfo -h -N -o '%N|%o'`` output -> {node: address} (a node listed per partition once)."""
    nodes: dict[str, str] = {}
    for line in text.splitlines():
        name, sep, address = line.strip().partition("|")
        if sep and name:
            nodes[name] = address or name
    return nodes
