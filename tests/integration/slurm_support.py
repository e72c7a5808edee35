"""Finding the test Slurm cluster that `.ci/slurm-up.sh` starts."""

from __future__ import annotations

import os
import shutil
import subprocess

DEFAULT_DIR = os.environ.get("SSC_SLURM_DIR", "/tmp/sscontainer-slurm")
HOW = "run .ci/slurm-up.sh (it prints the SLURM_CONF to export)"


def slurm_conf() -> str | None:
    """The cluster's slurm.conf: $SLURM_CONF, else the one in slurm-up.sh's default directory.

    Sets ``os.environ["SLURM_CONF"]`` to it, so every Slurm command finds it.
    """
    for conf in (os.environ.get("SLURM_CONF"), os.path.join(DEFAULT_DIR, "slurm.conf")):
        if conf and os.path.isfile(conf):
            os.environ["SLURM_CONF"] = conf
            return conf
    return None


def slurm_up() -> bool:
    """A conf, the client tools and a controller that answers (sinfo lists a usable node)."""
    if slurm_conf() is None or shutil.which("sbatch") is None or shutil.which("sinfo") is None:
        return False
    try:
        done = subprocess.run(
            ["sinfo", "-h", "-N", "-o", "%T"], capture_output=True, text=True, timeout=20
        )
    except subprocess.TimeoutExpired:
        return False
    states = done.stdout.split()
    return done.returncode == 0 and any(s in ("idle", "mixed", "allocated") for s in states)
