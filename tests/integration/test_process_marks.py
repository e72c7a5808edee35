"""The environment mark finds every descendant of a job, as root and as a plain user, and
never another user's process (process_marks.py is stdlib only: it runs under the
system Python as ``nobody`` too)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from sscontainer.launchers import process_marks
from tests.conftest import require_service

REPO = Path(__file__).resolve().parents[2]
NOBODY = 65534

# starts a marked job whose children escape: one setsid, one orphaned by a double fork,
# one that overwrites its environment (as Redis does); sweeps it; prints what is left
SCRIPT = textwrap.dedent("""
    import os, subprocess, sys, time
    import process_marks as marks
    exp = sys.argv[1]
    job = marks.new_token()
    env = {**os.environ, **marks.mark_env(exp, job)}
    leader = subprocess.Popen([sys.executable, "child.py"], env=env, start_new_session=True)
    time.sleep(1.0)
    found = marks.marked([exp])
    marks.sweep(lambda: marks.marked([exp]), 2.0)
    leader.wait()
    print(len(found), len(marks.marked([exp])), len(marks.marked([sys.argv[2]])))
""")
CHILD = textwrap.dedent("""
    import os, subprocess, sys, time
    subprocess.Popen([sys.executable, "-c", "import os, time; os.setsid(); time.sleep(60)"])
    subprocess.Popen(["/bin/sleep", "60"], env={})  # no mark in its environment
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            time.sleep(60)
        os._exit(0)
    time.sleep(60)
""")


def _run(python: str, user: int | None, exp: str, foreign: str) -> list[int]:
    # pytest's tmp_path is private to root: a directory the plain user can enter
    folder = Path(tempfile.mkdtemp(prefix="ssc-marks-"))
    try:
        shutil.copy(REPO / "sscontainer" / "launchers" / "process_marks.py", folder)
        (folder / "probe.py").write_text(SCRIPT)
        (folder / "child.py").write_text(CHILD)
        os.chmod(folder, 0o755)
        argv = [python, str(folder / "probe.py"), exp, foreign]
        if user is not None:
            argv = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *argv]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    assert done.returncode == 0, done.stderr
    return [int(n) for n in done.stdout.split()]


def _foreign(exp: str) -> subprocess.Popen[bytes]:
    """A root process carrying a mark: a plain user must neither see nor signal it."""
    return subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"],
        env={**os.environ, **process_marks.mark_env(exp, "x")}, start_new_session=True,
    )


def test_marks_find_every_descendant_as_root() -> None:
    exp = process_marks.new_token()
    found, left, _ = _run(sys.executable, None, exp, "none")
    # leader, setsid child, env-less child (found as a descendant), double-fork orphan
    assert found >= 4 and left == 0


def test_marks_work_as_a_plain_user_and_never_reach_others() -> None:
    require_service(os.geteuid() == 0 and shutil.which("setpriv") is not None
                    and os.path.exists("/usr/bin/python3"), "setpriv and /usr/bin/python3",
                    "run as root on Debian (as CI does)")
    exp = process_marks.new_token()
    foreign_exp = process_marks.new_token()
    other = _foreign(foreign_exp)
    try:
        found, left, seen_foreign = _run("/usr/bin/python3", NOBODY, exp, foreign_exp)
        assert found >= 4 and left == 0
        assert seen_foreign == 0  # root's marked process is not visible to nobody
        time.sleep(0.2)
        assert other.poll() is None
    finally:
        other.kill()
        other.wait()


SUBREAPER = textwrap.dedent("""
    import os, subprocess, sys, time
    from sscontainer.launchers import process_marks as marks
    assert marks.become_subreaper()
    child = subprocess.Popen(
        [sys.executable, "-c", "import os, time\\n"
         "if os.fork() == 0:\\n"
         "    os.environ.clear(); os.execv('/bin/sleep', ['sleep', '60'])\\n"
         "os._exit(0)"],
        start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    child.wait()
    time.sleep(0.5)
    # the orphan, as /proc shows it (for the failure message): pid, state, parent, session
    seen = [(p, info) for p, info in marks.snapshot().items() if info[2] == child.pid]
    orphans = marks.adopted_orphans([child.pid])
    marks.sweep(lambda: marks.adopted_orphans([child.pid]), 1.0)
    time.sleep(0.2)
    marks.reap_orphans([child.pid])
    zombies = [p for p, (state, ppid, _s) in marks.snapshot().items()
               if ppid == os.getpid() and state == "Z"]
    print(len(orphans), len(marks.adopted_orphans([child.pid])), len(zombies))
    print("me", os.getpid(), "sid", os.getsid(0), "orphan", seen, file=sys.stderr)
    for pid, _info in seen:  # never leave it behind, whatever the outcome
        try:
            os.kill(pid, 9)
        except OSError:
            pass
""")


def test_a_subreaper_driver_finds_reaps_and_ends_orphans_without_marks() -> None:
    """An orphan with no mark (its environment emptied) becomes the driver's child."""
    done = subprocess.run([sys.executable, "-c", SUBREAPER], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert [int(n) for n in done.stdout.split()] == [1, 0, 0], done.stderr


def test_the_session_read_from_proc_is_the_one_the_kernel_reports() -> None:
    """``_stat`` reads the session field, not the terminal field beside it."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"],
                             start_new_session=True)
    try:
        time.sleep(0.2)
        info = process_marks._stat(child.pid)
        assert info is not None and info[2] == os.getsid(child.pid) == child.pid
        mine = process_marks._stat(os.getpid())
        assert mine is not None and mine[2] == os.getsid(0)
    finally:
        child.kill()
        child.wait()


def test_a_subreaper_driver_in_a_pid_namespace_whose_session_is_outside() -> None:
    """As on CI's machine: the driver's session leader lives outside its PID namespace, so
    its session id reads 0; orphans are still found, reaped and ended."""
    unshare = shutil.which("unshare")
    require_service(os.geteuid() == 0 and unshare is not None and shutil.which("setsid")
                    is not None, "root with unshare and setsid", "run as root (as CI does)")
    argv = ["setsid", str(unshare), "--pid", "--fork", "--mount-proc",
            sys.executable, "-c", SUBREAPER]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=REPO,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    assert " sid 0 " in done.stderr, done.stderr  # the condition this test is about
    assert [int(n) for n in done.stdout.split()] == [1, 0, 0], done.stderr
