"""Parsing Slurm's answers: states, exit codes, scontrol/squeue/sacct lines."""

from __future__ import annotations

import pytest

from sscontainer.launchers import slurm_query as q
from sscontainer.status import Status

# Real `scontrol show job -o` lines (Slurm 22.05), shortened; WorkDir holds spaces.
DONE = (
    "JobId=12 JobName=hello UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=1 Nice=0 "
    "Account=(null) QOS=(null) JobState=FAILED Reason=NonZeroExitCode Dependency=(null) "
    "Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=3:0 RunTime=00:00:00 "
    "AllocNode:Sid=localhost:4268 CPUs/Task=1 ReqB:S:C:T=0:0:*:* "
    "WorkDir=/tmp/run dir/with spaces StdErr=/tmp/run dir/e StdIn=/dev/null "
    "StdOut=/tmp/run dir/o Power= "
)
ARRAY_PENDING = (
    "JobId=20 ArrayJobId=20 ArrayTaskId=1-4%2 JobName=ens UserId=root(0) JobState=PENDING "
    "Reason=JobArrayTaskLimit ExitCode=0:0"
)
ARRAY_TASK = (
    "JobId=21 ArrayJobId=20 ArrayTaskId=0 JobName=ens UserId=root(0) JobState=CANCELLED "
    "Reason=None ExitCode=0:15"
)


@pytest.mark.parametrize(
    "state,status",
    [
        ("PENDING", Status.QUEUED),
        ("RUNNING", Status.RUNNING),
        ("COMPLETING", Status.RUNNING),
        ("COMPLETED", Status.COMPLETED),
        ("FAILED", Status.FAILED),
        ("TIMEOUT", Status.FAILED),
        ("NODE_FAIL", Status.FAILED),
        ("OUT_OF_MEMORY", Status.FAILED),
        ("BOOT_FAIL", Status.FAILED),
        ("CANCELLED", Status.CANCELLED),
        ("CANCELLED by 0", Status.CANCELLED),  # sacct's spelling
        ("RUNNING+", Status.RUNNING),
        ("SUSPENDED", Status.PAUSED),
        ("SOMETHING_NEW", Status.RUNNING),  # unknown: not terminal
    ],
)
def test_map_state(state: str, status: Status) -> None:
    assert q.map_state(state) is status


@pytest.mark.parametrize(
    "text,code",
    [("0:0", 0), ("3:0", 3), ("0:15", -15), ("137:0", 137), ("1:9", 1), ("", None), ("x", None)],
)
def test_parse_exit_code(text: str, code: int | None) -> None:
    assert q.parse_exit_code(text) == code


def test_scontrol_record_keys_and_spaced_values() -> None:
    (record,) = q.parse_scontrol_records(DONE + "\n\n")
    assert record["JobId"] == "12"
    assert record["JobState"] == "FAILED"
    assert record["ExitCode"] == "3:0"
    assert record["AllocNode:Sid"] == "localhost:4268"
    assert record["CPUs/Task"] == "1"
    assert record["WorkDir"] == "/tmp/run dir/with spaces"
    assert record["StdOut"] == "/tmp/run dir/o"
    assert record["Power"] == ""
    info = q.job_info_from_record(record)
    assert (info.status, info.returncode, info.detail) == (Status.FAILED, 3, "NonZeroExitCode")


def test_find_record_for_jobs_and_array_tasks() -> None:
    records = q.parse_scontrol_records("\n".join([DONE, ARRAY_PENDING, ARRAY_TASK]))
    assert q.find_record(records, "12") is records[0]
    assert q.find_record(records, "20_0") is records[2]
    assert q.find_record(records, "20_3") is records[1]  # still in the pending group
    assert q.find_record(records, "20_5") is None
    assert q.find_record(records, "20") is None  # an array has no plain job
    assert q.find_record(records, "99") is None
    pending = q.job_info_from_record(records[1])
    assert (pending.status, pending.returncode) == (Status.QUEUED, None)
    cancelled = q.job_info_from_record(records[2])
    assert (cancelled.status, cancelled.returncode) == (Status.CANCELLED, -15)


@pytest.mark.parametrize(
    "task,spec,inside",
    [(0, "0-2", True), (2, "0-2", True), (3, "0-2", False), (4, "1,3-5%2", True),
     (2, "1,3-5%2", False), (4, "0-8:2", True), (3, "0-8:2", False), (1, "[1-3]", True)],
)  # fmt: skip
def test_task_in_spec(task: int, spec: str, inside: bool) -> None:
    assert q.task_in_spec(task, spec) is inside


def test_squeue_and_sacct() -> None:
    states = q.parse_squeue("5_0|COMPLETED\n5_1|RUNNING\n7|PENDING\n\n")
    assert states == {"5_0": "COMPLETED", "5_1": "RUNNING", "7": "PENDING"}
    text = "5_1|CANCELLED by 0|0:15\n5_2|COMPLETED|0:0\n"
    info = q.parse_sacct(text, "5_1")
    assert info is not None and (info.status, info.returncode) == (Status.CANCELLED, -15)
    assert q.parse_sacct(text, "5_3") is None


def test_handles() -> None:
    assert q.is_handle("123") and q.is_handle("123_4")
    for bad in ("", "12;rm", "12_", "_4", "12 13", "-1"):
        assert not q.is_handle(bad)
    assert q.base_job_id("123_4") == "123"


def test_exit_file_fallback() -> None:
    ok = q.job_info_from_exit_file("0\n")
    assert (ok.status, ok.returncode) == (Status.COMPLETED, 0)
    bad = q.job_info_from_exit_file("3\n")
    assert (bad.status, bad.returncode) == (Status.FAILED, 3)
    unknown = q.job_info_from_exit_file(None)
    assert unknown.status is Status.FAILED and unknown.returncode is None
    assert "MinJobAge" in unknown.detail


def test_node_of_a_record_and_node_addresses() -> None:
    assert q.node_of_record({"BatchHost": "n3"}) == "n3"
    assert q.node_of_record({"BatchHost": "(null)"}) == ""
    assert q.node_of_record({}) == ""
    text = "n1|10.0.0.11\nn2|10.0.0.12\nn1|10.0.0.11\nlocalhost|\n"
    assert q.parse_node_addresses(text) == {
        "n1": "10.0.0.11", "n2": "10.0.0.12", "localhost": "localhost",
    }
