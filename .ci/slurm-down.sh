#!/usr/bin/env bash
# Stop the single-node cluster started by slurm-up.sh, by its pid files.
# munged is left running unless SSC_SLURM_STOP_MUNGE=1 (other tools may use it).
set -uo pipefail

D="${SSC_SLURM_DIR:-/tmp/sscontainer-slurm}"

stop() { # pidfile progname
    local pid
    [[ -s "$1" ]] || return 0
    pid="$(cat "$1")"
    if [[ -d "/proc/$pid" ]] && grep -q "$2" "/proc/$pid/comm" 2>/dev/null; then
        echo "slurm-down: stopping $2 ($pid)" >&2
        kill "$pid"
        for _ in $(seq 50); do [[ -d "/proc/$pid" ]] || break; sleep 0.1; done
        [[ -d "/proc/$pid" ]] && kill -9 "$pid"
    fi
    rm -f "$1"
}

stop "$D/slurmd.pid" slurmd
stop "$D/slurmctld.pid" slurmctld
if [[ "${SSC_SLURM_STOP_MUNGE:-0}" == 1 ]]; then
    stop /run/munge/munged.pid munged
fi
exit 0
