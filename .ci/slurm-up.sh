#!/usr/bin/env bash
# Start a single-node Slurm cluster (munge + slurmctld + slurmd) for the test suite.
#
# All state lives under one directory ($SSC_SLURM_DIR, default /tmp/sscontainer-slurm);
# /etc/slurm is left untouched: clients find the cluster through SLURM_CONF.
# Idempotent: daemons already running (per their pid files) are left alone.
set -euo pipefail

D="${SSC_SLURM_DIR:-/tmp/sscontainer-slurm}"
CONF="$D/slurm.conf"
WAIT_S="${SSC_SLURM_WAIT_S:-60}"

log() { echo "slurm-up: $*" >&2; }

# A pid file names a live process of the expected program.
running() { # pidfile progname
    local pid
    [[ -s "$1" ]] || return 1
    pid="$(cat "$1")"
    [[ -d "/proc/$pid" ]] && grep -q "$2" "/proc/$pid/comm" 2>/dev/null
}

# --- install -------------------------------------------------------------------
# Slurm + munge, and what the containerized Slurm tests run: Charliecloud (the
# daemonless stand-in for Apptainer) and a static busybox for their tiny image.
missing=()
for pair in slurmctld:slurmctld slurmd:slurmd sbatch:slurm-client munged:munge \
    ch-run:charliecloud-runtime; do
    command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
done
# The plain busybox package is dynamically linked: the image needs the static one.
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' \
    || missing+=(busybox-static)
if ((${#missing[@]})); then
    [[ "$(id -u)" == 0 ]] || { log "missing ${missing[*]}: installing needs root"; exit 1; }
    log "installing ${missing[*]}"
    # Others may run apt at the same time: wait for the dpkg lock instead of failing.
    apt-get -o DPkg::Lock::Timeout=300 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
        --no-install-recommends "${missing[@]}" >/dev/null
fi

mkdir -p "$D/state" "$D/spool"

# --- slurm.conf ----------------------------------------------------------------
# Rewritten each run (cheap) but only when its content changes, so a running
# slurmctld never sees a different file than the one it started with.
CPUS="$(nproc)"
MEM_MB="$(awk '/MemTotal/ {print int($2 / 1024 / 2)}' /proc/meminfo)"
NEW_CONF="$(cat <<CONF
ClusterName=ssc
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
# pgid: a batch shell killed by SIGTERM must not orphan its children (linuxproc
# tracks the parent chain and loses them; cgroups are not usable here).
ProctrackType=proctrack/pgid
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
ReturnToService=2
StateSaveLocation=$D/state
SlurmdSpoolDir=$D/spool
SlurmctldPidFile=$D/slurmctld.pid
SlurmdPidFile=$D/slurmd.pid
SlurmctldLogFile=$D/slurmctld.log
SlurmdLogFile=$D/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MailProg=/bin/true
# Finished jobs stay visible to scontrol for the whole test run (no accounting here).
MinJobAge=3600
# Poll-friendly scheduling for tiny test jobs.
SchedulerParameters=sched_interval=1
KillWait=5
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
# Shards of a database, the models using them and test jobs share the few cores of one
# test node: let jobs share cores, as a busy development partition would.
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:8
CONF
)"
export SLURM_CONF="$CONF"
if [[ ! -f "$CONF" ]] || [[ "$(cat "$CONF")" != "$NEW_CONF" ]]; then
    printf '%s\n' "$NEW_CONF" >"$CONF"
    # Daemons still running an older file are restarted (some settings, such as
    # ProctrackType, need a restart; reconfigure is not enough).
    if running "$D/slurmctld.pid" slurmctld || running "$D/slurmd.pid" slurmd; then
        log "slurm.conf changed: restarting the daemons"
        SSC_SLURM_DIR="$D" "$(dirname "${BASH_SOURCE[0]}")/slurm-down.sh"
    fi
fi

# --- daemons -------------------------------------------------------------------
# munged may be someone else's: start one only when no munge daemon answers.
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    mkdir -p /run/munge && chown munge:munge /run/munge
    if [[ ! -s /etc/munge/munge.key ]]; then
        log "creating a munge key"
        /usr/sbin/mungekey --create --force 2>/dev/null \
            || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
        chown munge:munge /etc/munge/munge.key && chmod 0400 /etc/munge/munge.key
    fi
    log "starting munged"
    runuser -u munge -- /usr/sbin/munged --force
fi

if ! running "$D/slurmctld.pid" slurmctld; then
    log "starting slurmctld"
    slurmctld -f "$CONF"
fi
if ! running "$D/slurmd.pid" slurmd; then
    log "starting slurmd"
    slurmd -f "$CONF" -N localhost
fi

# --- wait until the node takes jobs ------------------------------------------------
deadline=$((SECONDS + WAIT_S))
until state="$(sinfo -h -N -o %T 2>/dev/null | head -n1)" \
    && [[ "$state" == idle || "$state" == mixed || "$state" == allocated ]]; do
    if ((SECONDS >= deadline)); then
        log "the node did not become idle within ${WAIT_S}s (state: ${state:-none});" \
            "see $D/slurmctld.log and $D/slurmd.log"
        exit 1
    fi
    # A node left DOWN/DRAIN by an earlier run: give it back to service.
    if [[ "$state" == down* || "$state" == drain* ]]; then
        scontrol update NodeName=localhost State=RESUME >/dev/null 2>&1 || true
    fi
    sleep 0.5
done

log "cluster up (node: $state); state in $D"
echo "export SLURM_CONF=$CONF"
