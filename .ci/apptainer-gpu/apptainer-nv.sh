#!/bin/sh
# Device-only variant of .ci/apptainer-wrapper.sh: a minimal Debian 13 rootfs holding
# Apptainer, plus the host's NVIDIA driver libraries and tools bound in, so that
# `apptainer exec --nv` finds them as it would on a GPU node.
set -eu
R=${APPTAINER_ROOTFS:-/tmp/gpu-b/rootfs}
if [ -z "${_SSC_APPT_INNER:-}" ]; then
    export _SSC_APPT_INNER=1 _SSC_APPT_CWD="$PWD"
    exec unshare --mount --propagation private "$0" "$@"
fi
mount --bind "$R" "$R"
mount -t proc proc "$R/proc"
mount --rbind /sys "$R/sys"
mount --rbind /dev "$R/dev"
for f in /etc/passwd /etc/group /etc/resolv.conf /etc/hosts; do
    if [ -f "$f" ]; then mount --bind "$f" "$R$f"; fi
done
for d in /tmp /root; do mkdir -p "$R$d"; mount --rbind "$d" "$R$d"; done
# the driver's libraries (what `apptainer exec --nv` looks up with ldconfig) and tools
for lib in $(ldconfig -p 2>/dev/null | awk '/x86-64/ && /lib(cuda|nvidia)[^ ]*\.so/ {print $NF}'); do
    name=$(basename "$lib"); real=$(readlink -f "$lib")
    [ -f "$R/usr/lib/x86_64-linux-gnu/$name" ] || : >"$R/usr/lib/x86_64-linux-gnu/$name"
    mount --bind "$real" "$R/usr/lib/x86_64-linux-gnu/$name"
done
for tool in nvidia-smi nvidia-debugdump nvidia-persistenced; do
    if p=$(command -v "$tool"); then
        [ -f "$R/usr/bin/$tool" ] || { : >"$R/usr/bin/$tool"; chmod 755 "$R/usr/bin/$tool"; }
        mount --bind "$p" "$R/usr/bin/$tool"
    fi
done
cd "$R"; mkdir -p .oldroot; pivot_root . .oldroot; umount -l /.oldroot
/usr/sbin/ldconfig
cd "$_SSC_APPT_CWD" 2>/dev/null || cd /
unset _SSC_APPT_INNER _SSC_APPT_CWD
export PATH=/usr/sbin:/usr/bin APPTAINER_CACHEDIR=/var/cache/apptainer
exec /usr/bin/apptainer "$@"
