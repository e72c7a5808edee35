#!/usr/bin/env bash
# A multi-node Slurm cluster on one Linux machine, for sscontainer's cross-host tests.
#
# Every compute node n1..nN is its own network namespace (own address on its own interface
# "hsn0", own loopback: 127.0.0.1 on n2 is not n1) and UTS namespace (own hostname), with its
# own slurmd; slurmctld runs in a controller namespace. The root namespace is the login node
# (address .1 on the bridge, itself named hsn0 as on clusters whose login nodes have the
# fabric). A second login node, "login2", is a namespace whose interface is named mgmt0: a
# login node without the nodes' interface. The filesystem and munged are shared, as on a
# cluster with a shared filesystem.
#
#   slurm-multinode.sh up     [-n NODES] [-d DIR]  build or keep (idempotent); prints `export SLURM_CONF=...`
#   slurm-multinode.sh down   [-d DIR] [--purge]   stop jobs, daemons, namespaces, links
#   slurm-multinode.sh status [-d DIR]             namespaces, daemons, node states
#   slurm-multinode.sh procs  [-d DIR]             processes on the nodes other than slurmd
#   slurm-multinode.sh check  [-d DIR]             cross-node proofs, PASS/FAIL lines
#   slurm-multinode.sh exec HOST [-d DIR] -- CMD   run CMD on n1..nN, login2 or the controller
#
# Environment (defaults): SSC_MN_NODES=4 SSC_MN_DIR=/tmp/sscontainer-mn SSC_MN_PREFIX=ssc
# SSC_MN_NET=10.78.0 SSC_MN_IFNAME=hsn0 SSC_MN_BRIDGE=$SSC_MN_IFNAME SSC_MN_CTLD_PORT=7817
# SSC_MN_SLURMD_PORT=7818 SSC_MN_CPUS=2 SSC_MN_MEM_MB=2000 SSC_MN_WAIT_S=60.
# The single-node cluster of slurm-up.sh (ports 6817/6818) may run beside it: nothing is shared
# but munged. Needs root, iproute2, util-linux, slurmctld, slurmd, slurm-client, munge.
set -euo pipefail

usage() { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }
log() { echo "slurm-multinode: $*" >&2; }
die() { log "$*"; exit 1; }

CMD="${1:-}"; [[ -n "$CMD" ]] || usage; shift
TARGET=""
if [[ "$CMD" == exec ]]; then TARGET="${1:-}"; [[ -n "$TARGET" ]] || usage; shift; fi
PURGE=0
while (($#)); do
    case "$1" in
        -n) SSC_MN_NODES="$2"; shift 2 ;;
        -d) SSC_MN_DIR="$2"; shift 2 ;;
        --purge) PURGE=1; shift ;;
        --) shift; break ;;
        -h|--help) usage 0 ;;
        *) [[ "$CMD" == exec ]] && break; usage ;;
    esac
done

BASE="$(realpath -m "${SSC_MN_DIR:-/tmp/sscontainer-mn}")"
# down/status/procs/exec/check use what `up` recorded unless the environment says otherwise.
if [[ "$CMD" != up && -f "$BASE/cluster.env" ]]; then
    # shellcheck disable=SC1091
    source "$BASE/cluster.env"
fi
NODES="${SSC_MN_NODES:-${REC_NODES:-4}}"
PFX="${SSC_MN_PREFIX:-${REC_PREFIX:-ssc}}"
NET="${SSC_MN_NET:-${REC_NET:-10.78.0}}"
IFNAME="${SSC_MN_IFNAME:-${REC_IFNAME:-hsn0}}"
BR="${SSC_MN_BRIDGE:-${REC_BRIDGE:-$IFNAME}}"
CTLD_PORT="${SSC_MN_CTLD_PORT:-7817}"
SLURMD_PORT="${SSC_MN_SLURMD_PORT:-7818}"
CPUS="${SSC_MN_CPUS:-2}"
MEM_MB="${SSC_MN_MEM_MB:-2000}"
WAIT_S="${SSC_MN_WAIT_S:-60}"
CONF="$BASE/slurm.conf"
CTL_NS="$PFX-ctl"; CTL_HOST="${PFX}ctl"; CTL_IP="$NET.2"
LOGIN2_NS="$PFX-login2"; LOGIN2_IP="$NET.3"; LOGIN2_IF="mgmt0"
LOGIN_IP="$NET.1"

[[ "$NODES" =~ ^[1-9][0-9]?$ ]] || die "node count must be 1..99, got $NODES"
((${#BR} <= 15 && ${#PFX} <= 8)) || die "SSC_MN_BRIDGE must be <= 15 characters, SSC_MN_PREFIX <= 8"
[[ "$(id -u)" == 0 ]] || die "needs root (network namespaces, a bridge)"

node_name() { echo "n$1"; }
node_ns() { echo "$PFX-n$1"; }
node_ip() { echo "$NET.$((10 + $1))"; }

# A pid file naming a live process whose command name is $2.
alive() { # pidfile comm
    local pid
    [[ -s "$1" ]] || return 1
    pid="$(cat "$1" 2>/dev/null)" || return 1
    [[ "$pid" =~ ^[0-9]+$ && -d "/proc/$pid" ]] && grep -qx "$2" "/proc/$pid/comm" 2>/dev/null
}

no_ipv6() { # [netns] ifname: no link-local addresses, no IPv6 chatter on the test links
    if [[ $# == 2 ]]; then
        ip netns exec "$1" sh -c "echo 1 > /proc/sys/net/ipv6/conf/$2/disable_ipv6" 2>/dev/null || true
    else
        echo 1 >"/proc/sys/net/ipv6/conf/$1/disable_ipv6" 2>/dev/null || true
    fi
}

# One host: a netns with lo and an interface (a veth whose other end is in the bridge), no
# default route, so nothing leaves the test network (this machine may forward packets).
make_host() { # ns hostveth ifname ip
    local ns="$1" veth="$2" ifname="$3" addr="$4"
    ip netns list | awk '{print $1}' | grep -qx "$ns" || ip netns add "$ns"
    if ! ip link show "$veth" >/dev/null 2>&1; then
        ip netns exec "$ns" ip link del "$ifname" 2>/dev/null || true
        ip link add "$veth" type veth peer name "$ifname" netns "$ns"
    fi
    no_ipv6 "$veth"
    ip link set "$veth" master "$BR" up
    no_ipv6 "$ns" "$ifname"
    ip netns exec "$ns" ip link set lo up
    ip netns exec "$ns" ip addr replace "$addr/24" dev "$ifname"
    ip netns exec "$ns" ip link set "$ifname" up
}

# Run a command as a host: its netns (`ip netns exec` also gives a private mount namespace and
# a /sys showing only its interfaces), its own UTS namespace and hostname, and BASE/hosts over
# /etc/hosts there only. slurmd 22.05 will not start without cgroup mounts under the fresh
# /sys ("No filesystem mounted on /sys/fs/cgroup"): a tmpfs plus the existing named v1
# hierarchy name=systemd satisfies its detection (no cgroup plugin is used: proctrack/pgid,
# task/none); nothing is created in the hierarchy. cgroup-v2-only hosts mount cgroup2.
in_host() { # ns hostname cmd...
    local ns="$1" host="$2"; shift 2
    ip netns exec "$ns" unshare --uts -- /bin/sh -c '
        hostname "$1" && mount --bind "$2" /etc/hosts || exit 1
        if ! mountpoint -q /sys/fs/cgroup; then
            if [ "$3" = cgroup2fs ]; then
                mount -t cgroup2 cgroup2 /sys/fs/cgroup || exit 1
            else
                mount -t tmpfs -o mode=755 cgroup /sys/fs/cgroup && mkdir -p /sys/fs/cgroup/systemd \
                    && mount -t cgroup -o none,name=systemd cgroup /sys/fs/cgroup/systemd || exit 1
            fi
        fi
        shift 3 && exec "$@"' sh "$host" "$BASE/hosts" "$(stat -fc %T /sys/fs/cgroup)" "$@"
}

# Writes the hosts file and slurm.conf; returns 0 when slurm.conf changed.
write_conf() {
    local i
    {
        echo "127.0.0.1 localhost"
        echo "::1 ip6-localhost ip6-loopback"
        echo "$LOGIN_IP $(hostname) login"
        echo "$CTL_IP $CTL_HOST"
        echo "$LOGIN2_IP login2"
        for ((i = 1; i <= NODES; i++)); do echo "$(node_ip "$i") $(node_name "$i")"; done
    } >"$BASE/hosts.new"
    # running nodes see this file bind-mounted over their /etc/hosts: a rename would leave
    # them a deleted inode (bind mounts of it then fail), so an unchanged file stays as it is
    # and a changed one is rewritten in place
    if cmp -s "$BASE/hosts.new" "$BASE/hosts"; then
        rm -f "$BASE/hosts.new"
    elif [ -f "$BASE/hosts" ]; then
        cat "$BASE/hosts.new" >"$BASE/hosts" && rm -f "$BASE/hosts.new"
    else
        mv -f "$BASE/hosts.new" "$BASE/hosts"
    fi
    cat >"$CONF.new" <<EOF
# Written by sscontainer's .ci/slurm-multinode.sh: $NODES nodes, each its own network + UTS namespace.
ClusterName=${PFX}mn
SlurmctldHost=$CTL_HOST($CTL_IP)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
# pgid: no cgroups here; a batch shell killed by scancel does not orphan its children
ProctrackType=proctrack/pgid
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1
# the machine has fewer cores than the nodes claim: believe this file
SlurmdParameters=config_overrides
ReturnToService=2
# finished jobs stay visible to scontrol for a whole test run (no accounting here)
MinJobAge=3600
KillWait=5
MailProg=/bin/true
StateSaveLocation=$BASE/state
SlurmdSpoolDir=$BASE/spool/%n
# node-local scratch (srun --mpi=pmix puts its client directories there): /tmp is shared here
TmpFS=$BASE/tmp/%n
SlurmctldPidFile=$BASE/run/slurmctld.pid
SlurmdPidFile=$BASE/run/slurmd-%n.pid
SlurmctldLogFile=$BASE/log/slurmctld.log
SlurmdLogFile=$BASE/log/slurmd-%n.log
SlurmctldDebug=info
SlurmdDebug=info
EOF
    for ((i = 1; i <= NODES; i++)); do
        echo "NodeName=$(node_name "$i") NodeAddr=$(node_ip "$i") NodeHostname=$(node_name "$i") CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN" >>"$CONF.new"
    done
    # LLN: least-loaded node first, so one-CPU jobs spread over the nodes; FORCE:8: the nodes'
    # CPUs are oversubscribed (N x CPUS on the machine's few cores)
    echo "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:8 LLN=YES" >>"$CONF.new"
    if [[ -f "$CONF" ]] && cmp -s "$CONF" "$CONF.new"; then
        rm -f "$CONF.new"; return 1
    fi
    mv -f "$CONF.new" "$CONF"
}

munge_ok() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

install_missing() {
    local missing=() pair
    for pair in slurmctld:slurmctld slurmd:slurmd sbatch:slurm-client munged:munge \
        ip:iproute2 nsenter:util-linux mpirun:openmpi-bin; do
        command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
    done
    # Slurm's pmix plugin (srun --mpi=pmix) opens libpmix.so, which only the -dev package
    # links; slurmd must find it when it starts
    dpkg-query -W -f='${Status}' libpmix-dev 2>/dev/null | grep -q 'ok installed' \
        || missing+=(libpmix-dev)
    ((${#missing[@]})) || return 0
    INSTALLED=1   # daemons started before must start again to load what came
    log "installing ${missing[*]}"
    apt-get -o DPkg::Lock::Timeout=300 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
        --no-install-recommends "${missing[@]}" >/dev/null
}

our_namespaces() {
    ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^$PFX-(ctl|login2|n[0-9]+)$" || true
}

cmd_up() {
    INSTALLED=0
    install_missing
    mkdir -p "$BASE"/{state,spool,run,log,tmp}
    local changed=$INSTALLED i ns n
    write_conf && changed=1
    printf 'REC_NODES=%s\nREC_PREFIX=%s\nREC_NET=%s\nREC_IFNAME=%s\nREC_BRIDGE=%s\n' \
        "$NODES" "$PFX" "$NET" "$IFNAME" "$BR" >"$BASE/cluster.env"
    if ((changed)) && { alive "$BASE/run/slurmctld.pid" slurmctld || compgen -G "$BASE/run/slurmd-*.pid" >/dev/null; }; then
        log "slurm.conf changed: restarting the daemons"
        stop_daemons
    fi

    # munged is shared through its socket: start one only when none answers (down stops it then)
    if ! munge_ok; then
        mkdir -p /run/munge && chown munge:munge /run/munge
        if [[ ! -s /etc/munge/munge.key ]]; then
            /usr/sbin/mungekey --create --force 2>/dev/null \
                || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
            chown munge:munge /etc/munge/munge.key && chmod 0400 /etc/munge/munge.key
        fi
        runuser -u munge -- /usr/sbin/munged --force
        for _ in $(seq 50); do munge_ok && break; sleep 0.1; done
        cp /run/munge/munged.pid "$BASE/run/munged.ours" 2>/dev/null || true
    fi

    # network: the bridge (the login node's side), the controller, login2, the nodes
    ip link show "$BR" >/dev/null 2>&1 || ip link add "$BR" type bridge
    no_ipv6 "$BR"
    ip addr replace "$LOGIN_IP/24" dev "$BR"
    ip link set "$BR" up
    make_host "$CTL_NS" "$PFX-vc" "$IFNAME" "$CTL_IP"
    make_host "$LOGIN2_NS" "$PFX-vl" "$LOGIN2_IF" "$LOGIN2_IP"
    for ns in $(our_namespaces); do   # nodes of an earlier, larger cluster
        [[ "$ns" =~ ^$PFX-n([0-9]+)$ ]] && ((BASH_REMATCH[1] > NODES)) || continue
        kill_ns_procs "$ns"; ip netns del "$ns"
    done
    for ((i = 1; i <= NODES; i++)); do make_host "$(node_ns "$i")" "$PFX-v$i" "$IFNAME" "$(node_ip "$i")"; done

    # daemons
    if ! alive "$BASE/run/slurmctld.pid" slurmctld; then
        rm -rf "$BASE/state" && mkdir -p "$BASE/state"
        in_host "$CTL_NS" "$CTL_HOST" slurmctld -f "$CONF" -c -i \
            || die "slurmctld did not start: see $BASE/log/slurmctld.log"
    fi
    for ((i = 1; i <= NODES; i++)); do
        n="$(node_name "$i")"
        if ! alive "$BASE/run/slurmd-$n.pid" slurmd; then
            mkdir -p "$BASE/spool/$n" "$BASE/tmp/$n"
            # sockets of steps an earlier slurmd ran: job ids start again at 1 after a clean start
            rm -rf "$BASE/spool/$n"/stepd.slurm.pmix.* "$BASE/spool/$n"/pmix.*
            in_host "$(node_ns "$i")" "$n" slurmd -f "$CONF" -N "$n" \
                || die "slurmd $n did not start: see $BASE/log/slurmd-$n.log"
        fi
    done

    # until every node takes jobs
    export SLURM_CONF="$CONF"
    local deadline=$((SECONDS + WAIT_S)) ready states
    while :; do
        states="$(sinfo -h -N -o '%N %T' 2>/dev/null || true)"
        ready="$(grep -cE ' (idle|mixed|allocated)$' <<<"$states" || true)"
        ((ready >= NODES)) && break
        if ((SECONDS >= deadline)); then
            log "nodes not ready within ${WAIT_S}s:"; echo "$states" >&2
            die "see $BASE/log/slurmctld.log and $BASE/log/slurmd-*.log"
        fi
        { grep -E ' (down|drain)' <<<"$states" || true; } | awk '{print $1}' | while read -r dn; do
            scontrol update NodeName="$dn" State=RESUME >/dev/null 2>&1 || true
        done
        sleep 0.3
    done
    log "up: $NODES nodes ($(node_ip 1)..$(node_ip "$NODES") on $IFNAME), controller $CTL_IP:$CTLD_PORT, login $LOGIN_IP on $BR, login2 $LOGIN2_IP on $LOGIN2_IF"
    echo "export SLURM_CONF=$CONF"
}

stop_daemons() { # TERM slurmctld and every slurmd at once (by pid file), KILL after 5 s
    local f pids=() pid left
    if alive "$BASE/run/slurmctld.pid" slurmctld && [[ -f "$CONF" ]]; then
        SLURM_CONF="$CONF" timeout 10 scancel -Q --user root 2>/dev/null || true
    fi
    for f in "$BASE"/run/slurmd-*.pid "$BASE/run/slurmctld.pid"; do
        [[ -e "$f" ]] || continue
        if alive "$f" slurmd || alive "$f" slurmctld; then pids+=("$(cat "$f")"); fi
        rm -f "$f"
    done
    ((${#pids[@]})) || return 0
    kill "${pids[@]}" 2>/dev/null || true
    for _ in $(seq 50); do
        left=0
        for pid in "${pids[@]}"; do [[ -d "/proc/$pid" ]] && left=1; done
        ((left)) || return 0
        sleep 0.1
    done
    for pid in "${pids[@]}"; do [[ -d "/proc/$pid" ]] && kill -9 "$pid" 2>/dev/null; done
    return 0
}

# Every process left in one of our namespaces (job steps, servers), by pid: TERM, then KILL.
kill_ns_procs() { # ns
    local pids
    pids="$(ip netns pids "$1" 2>/dev/null | tr '\n' ' ')"
    [[ -n "${pids// /}" ]] || return 0
    # shellcheck disable=SC2086
    kill $pids 2>/dev/null || true
    for _ in $(seq 30); do
        pids="$(ip netns pids "$1" 2>/dev/null | tr '\n' ' ')"
        [[ -n "${pids// /}" ]] || return 0
        sleep 0.1
    done
    # shellcheck disable=SC2086
    kill -9 $pids 2>/dev/null || true
    sleep 0.2
}

cmd_down() {
    stop_daemons
    local ns
    for ns in $(our_namespaces); do
        kill_ns_procs "$ns"
        ip netns del "$ns" 2>/dev/null || true
    done
    # host ends of veth pairs go with their namespaces; remove leftovers, then the bridge
    { ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 \
        | grep -E "^$PFX-v(c|l|[0-9]+)$" || true; } | while read -r v; do ip link del "$v" 2>/dev/null || true; done
    if ip link show "$BR" >/dev/null 2>&1 && [[ "$(ip -d link show "$BR")" == *bridge* ]]; then
        ip link del "$BR"
    fi
    if alive "$BASE/run/munged.ours" munged; then   # only a munged that `up` started
        kill "$(cat "$BASE/run/munged.ours")" 2>/dev/null || true
    fi
    rm -f "$BASE/run/munged.ours" "$BASE"/run/*.pid
    ((PURGE)) && rm -rf "$BASE"
    log "down: no $PFX-* namespaces, no bridge $BR"
}

cmd_status() {
    local f
    echo "namespaces: $(our_namespaces | tr '\n' ' ')"
    ip -br addr show "$BR" 2>/dev/null || echo "bridge $BR: absent"
    if alive "$BASE/run/slurmctld.pid" slurmctld; then
        echo "slurmctld: pid $(cat "$BASE/run/slurmctld.pid")"
    else
        echo "slurmctld: not running"
    fi
    for f in "$BASE"/run/slurmd-*.pid; do
        [[ -e "$f" ]] || continue
        if alive "$f" slurmd; then echo "$(basename "$f" .pid): pid $(cat "$f")"; else echo "$(basename "$f" .pid): dead"; fi
    done
    if [[ -f "$CONF" ]] && alive "$BASE/run/slurmctld.pid" slurmctld; then
        SLURM_CONF="$CONF" sinfo -N -o '%N %T %c'
    fi
}

# "NODE PID COMMAND" for every process in a node's namespace that is not its slurmd: what jobs
# left behind. Empty output: the nodes are clean.
cmd_procs() {
    local i ns pid comm
    for ((i = 1; i <= NODES; i++)); do
        ns="$(node_ns "$i")"
        for pid in $(ip netns pids "$ns" 2>/dev/null); do
            comm="$(cat "/proc/$pid/comm" 2>/dev/null)" || continue
            [[ "$comm" == slurmd ]] && continue
            echo "$(node_name "$i") $pid $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-200)"
        done
    done
}

# Run "$@" as TARGET: a node or the controller (the namespaces of its daemon), or login2.
cmd_exec() {
    local f
    (($#)) || set -- bash
    if [[ "$TARGET" == login2 ]]; then
        SLURM_CONF="$CONF" exec ip netns exec "$LOGIN2_NS" "$@"
    fi
    f="$BASE/run/slurmd-$TARGET.pid"
    [[ "$TARGET" == "$CTL_HOST" ]] && f="$BASE/run/slurmctld.pid"
    [[ -s "$f" ]] || die "no running daemon for $TARGET ($f)"
    SLURM_CONF="$CONF" exec nsenter -t "$(cat "$f")" -n -u -m -- "$@"
}

job_states() { scontrol show job -o "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | cut -d= -f2 || true; }
wait_job() { # jobid timeout_s: until every task of it has ended; prints the distinct end states
    local end=$((SECONDS + $2)) st
    while st="$(job_states "$1")"; [[ -z "$st" ]] || grep -qxE 'PENDING|RUNNING|CONFIGURING|COMPLETING|SUSPENDED' <<<"$st"; do
        ((SECONDS < end)) || { echo TIMEOUT; return 1; }
        sleep 0.3
    done
    sort -u <<<"$st" | tr '\n' ' ' | sed 's/ $//'
}

cmd_check() {
    export SLURM_CONF="$CONF"
    local t fail=0 out want i jid st port=18080 n1 n2
    t="$(mktemp -d "$BASE/check.XXXXXX")"
    n1="$(node_name 1)"; n2="$(node_name $((NODES > 1 ? 2 : 1)))"
    pass() { echo "PASS: $*"; }
    bad() { echo "FAIL: $*"; fail=1; }

    want="$(for ((i = 1; i <= NODES; i++)); do node_name "$i"; done | tr '\n' ' ')"
    out="$(timeout 60 srun -Q -N"$NODES" hostname 2>>"$t/err" | sort -V | tr '\n' ' ')"
    if [[ "$out" == "$want" ]]; then pass "srun -N$NODES hostname -> $out"; else bad "srun -N$NODES hostname -> $out (want $want)"; fi

    out="$(timeout 60 srun -Q -N"$NODES" ip -4 -o addr show dev "$IFNAME" 2>>"$t/err" | awk '{print $4}' | sort -uV | tr '\n' ' ')"
    if [[ "$(wc -w <<<"$out")" == "$NODES" ]]; then pass "$IFNAME addresses -> $out"; else bad "addresses: $out"; fi

    jid="$(sbatch --parsable -a 0-$((2 * NODES - 1)) -o "$t/arr-%a.out" --wrap 'hostname; sleep 2')"
    st="$(wait_job "$jid" 60)" || true
    out="$(cat "$t"/arr-*.out 2>/dev/null | sort -V | uniq -c | awk '{printf "%s x%s ", $2, $1}')"
    if [[ "$st" == COMPLETED && "$(cat "$t"/arr-*.out | wc -l)" == $((2 * NODES)) \
        && "$(sort -u "$t"/arr-*.out | wc -l)" -ge $((NODES > 1 ? 2 : 1)) ]]; then
        pass "job array of $((2 * NODES)) tasks spread: $out"
    else
        bad "job array: $st $out"
    fi

    # a server on n1 bound to n1's address, reached from a job on n2; the shared filesystem
    jid="$(sbatch --parsable -w "$n1" -o "$t/srv.out" --wrap \
        "hostname > $t/marker; exec python3 -m http.server $port --bind \$(hostname -i) --directory $t")"
    for _ in $(seq 100); do [[ -s "$t/marker" ]] && break; sleep 0.1; done
    sleep 1
    out="$(timeout 60 srun -Q -w "$n2" python3 -c "
import socket, urllib.request as u
me = socket.gethostname()
body = u.urlopen('http://$(node_ip 1):$port/marker', timeout=5).read().decode().strip()
s = socket.socket(); s.settimeout(2); lo = s.connect_ex(('127.0.0.1', $port))
print(f'{me}: GET $(node_ip 1):$port/marker -> {body}; 127.0.0.1:$port on {me} -> errno {lo}')
" 2>&1)" || true
    scancel "$jid" 2>/dev/null || true
    if [[ "$out" == *"marker -> $n1;"* ]]; then pass "TCP across nodes: $out"; else bad "TCP: $out"; fi
    wait_job "$jid" 30 >/dev/null || true

    out="$(timeout 60 "$0" exec login2 -d "$BASE" -- sh -c "ip -o -4 addr show | awk '{print \$2}' | sort | tr '\n' ' '; srun -Q -w $n1 hostname" 2>&1)" || true
    if [[ "$out" == *"$n1" && "$out" != *"$IFNAME"* ]]; then pass "login2 (no $IFNAME) submits to $n1: $out"; else bad "login2: $out"; fi

    if ((fail)) && [[ -s "$t/err" ]]; then echo "stderr of the checks:"; cat "$t/err"; fi
    rm -rf "$t"
    if ((fail == 0)); then echo "all checks passed"; else echo "some checks FAILED"; return 1; fi
}

case "$CMD" in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    procs) cmd_procs ;;
    check) cmd_check ;;
    exec) cmd_exec "$@" ;;
    *) usage ;;
esac
