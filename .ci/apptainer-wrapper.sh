#!/bin/sh
# `apptainer` (or `singularity`) on a Debian 12 host: runs Debian's Apptainer, which needs
# glibc >= 2.38, inside the Debian 13 rootfs that .ci/apptainer-up.sh built
# (recipes/apptainer-path.md). Installed by that script with @ROOTFS@ filled in.
#
# Each call gets a private mount namespace whose root is the rootfs (pivot_root: Apptainer
# refuses a plain chroot), with the host's /proc, /sys, /dev and the host directories
# Apptainer must see bound at their own paths. Arguments, stdin/stdout/stderr, the whole
# environment and the exit status pass through; the mounts vanish with the process.
# - root: a mount namespace; `build` gets --fakeroot (root here may lack CAP_SYS_RESOURCE).
# - anyone else: a user namespace mapping the caller to itself, so Apptainer runs
#   unprivileged, as the caller, the way most HPC users run it.
set -eu
R=${APPTAINER_ROOTFS:-@ROOTFS@}
NAME=$(basename "$0")
case "$NAME" in apptainer|singularity) ;; *) NAME=apptainer ;; esac

if [ -z "${_SSC_APPT_INNER:-}" ]; then
    if [ ! -x "$R/usr/bin/apptainer" ]; then
        echo "$NAME: no Apptainer rootfs at $R: run .ci/apptainer-up.sh (as root)" >&2
        exit 127
    fi
    export _SSC_APPT_INNER=1 _SSC_APPT_CWD="$PWD" _SSC_APPT_UID="$(id -u)"
    if [ "$_SSC_APPT_UID" = 0 ]; then
        exec unshare --mount --propagation private "$0" "$@"
    fi
    exec unshare --mount --propagation private --map-user="$(id -u)" \
        --map-group="$(id -g)" --keep-caps "$0" "$@"
fi

mount --bind "$R" "$R"
if [ "$_SSC_APPT_UID" = 0 ]; then
    mount -t proc proc "$R/proc"
else
    mount --rbind /proc "$R/proc"    # a new proc needs a pid namespace of our own
fi
mount --rbind /sys "$R/sys"
mount --rbind /dev "$R/dev"
if [ "$_SSC_APPT_UID" != 0 ] && [ -c "$R/.dev-fuse" ]; then
    # the host's /dev/fuse may be 0600; a 0666 node made at install time stands in for it,
    # in this namespace only (the host's node is left as it is)
    mount --bind "$R/.dev-fuse" "$R/dev/fuse"
fi
for f in /etc/passwd /etc/group /etc/resolv.conf /etc/hosts; do
    if [ -f "$f" ]; then mount --bind "$f" "$R$f"; fi
done
# Host directories Apptainer must see at their own paths: images, bind sources, the cwd.
top=/$(printf '%s' "$_SSC_APPT_CWD" | cut -d/ -f2)
for d in /tmp /var/tmp /home /root /work /srv /mnt /scratch "$top" ${APPTAINER_HOST_DIRS:-}; do
    case "$d" in /|/bin|/boot|/dev|/etc|/lib*|/proc|/run|/sbin|/sys|/usr|/var) continue ;; esac
    if [ -d "$d" ] && ! mountpoint -q "$R$d" 2>/dev/null; then
        mkdir -p "$R$d" && mount --rbind "$d" "$R$d"
    fi
done
if [ -S /var/run/docker.sock ] && [ -w /var/run/docker.sock ]; then   # Bootstrap: docker-daemon
    : >"$R/run/docker.sock" && mount --bind /var/run/docker.sock "$R/run/docker.sock"
fi
cd "$R"
mkdir -p .oldroot
pivot_root . .oldroot
umount -l /.oldroot
cd "$_SSC_APPT_CWD" 2>/dev/null || {
    echo "$NAME: the working directory $_SSC_APPT_CWD is not visible to Apptainer:" \
        "add its top directory to APPTAINER_HOST_DIRS" >&2
    exit 127
}
uid=$_SSC_APPT_UID
unset _SSC_APPT_INNER _SSC_APPT_CWD _SSC_APPT_UID
if [ "$uid" = 0 ]; then
    export APPTAINER_CACHEDIR="${APPTAINER_CACHEDIR:-/var/cache/apptainer}"
    if [ "${1:-}" = build ]; then shift; set -- build --fakeroot "$@"; fi
    exec "/usr/bin/$NAME" "$@"
fi
# drop the capabilities the user namespace gave us: Apptainer runs unprivileged
exec setpriv --inh-caps=-all --ambient-caps=-all "/usr/bin/$NAME" "$@"
