#!/usr/bin/env bash
# Install real Apptainer for the test suite (recipes/apptainer-path.md), idempotently.
#
# Apptainer is Debian's own package, which only Debian unstable (sid) carries:
# - Debian 13+ host (glibc >= 2.38): `apt-get install apptainer/sid` on the host, the sid
#   suite added with a low pin so nothing else comes from it.
# - Debian 12 host (glibc 2.36, too old for the binary): the package goes into a small
#   Debian 13 root filesystem under $SSC_APPTAINER_CACHE/<hash of its inputs>, and
#   .ci/apptainer-wrapper.sh, installed as /usr/local/bin/apptainer (and `singularity`),
#   runs it there. A second run finds the rootfs by its hash and only re-installs the
#   wrapper (seconds).
# When the package cannot be had the script fails with one line saying so: CI never
# skips the Apptainer tests quietly. Needs root. Logs `apptainer --version` at the end.
set -euo pipefail

CACHE="${SSC_APPTAINER_CACHE:-/var/cache/sscontainer/apptainer}"
BIN_DIR="${SSC_APPTAINER_BIN_DIR:-/usr/local/bin}"
SUITE=trixie
PACKAGES=(apptainer/sid squashfuse fuse2fs)
TEST_USER="${SSC_TEST_USER:-ssctest}"   # the ordinary user the tests run Apptainer as
TEST_UID=1234
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

log() { echo "apptainer-up: $*" >&2; }
die() { echo "apptainer-up: FAILED: $*" >&2; exit 1; }

[[ "$(id -u)" == 0 ]] || die "installing Apptainer needs root"

mirror() {
    if [[ -n "${SSC_DEBIAN_MIRROR:-}" ]]; then echo "$SSC_DEBIAN_MIRROR"; return; fi
    local f=/etc/apt/sources.list.d/debian.sources uri=""
    if [[ -f "$f" ]]; then
        uri="$(awk '/^URIs:/ { print $2; exit }' "$f")"
    elif [[ -f /etc/apt/sources.list ]]; then
        uri="$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++)
            if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' /etc/apt/sources.list)"
    fi
    [[ -n "$uri" ]] || die "no Debian mirror in the apt sources: set SSC_DEBIAN_MIRROR"
    echo "$uri"
}

# apt sources for sid: only what is asked for by name comes from it (pin 50).
# Check-Valid-Until: no -- the mirror's sid index can be past its Valid-Until date.
write_sid_sources() { # root-of-etc mirror
    cat >"$1/etc/apt/sources.list.d/sscontainer-sid.sources" <<EOF
Types: deb
URIs: $2
Suites: sid
Components: main
Check-Valid-Until: no
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    printf 'Package: *\nPin: release n=sid\nPin-Priority: 50\n' \
        >"$1/etc/apt/preferences.d/sscontainer-sid-low"
}

# Root's capability bounding set may lack CAP_SYS_RESOURCE (seen on these machines):
# Apptainer then cannot give root's containers full capabilities, and builds need
# --fakeroot, which needs a subordinate id range for root.
tune_config() { # root
    local conf="$1/etc/apptainer/apptainer.conf"
    sed -i 's/^root default capabilities = full$/root default capabilities = no/' "$conf"
    for f in subuid subgid; do
        grep -q '^root:' "$1/etc/$f" 2>/dev/null || echo 'root:100000:65536' >>"$1/etc/$f"
    done
}

has_sys_resource() { # CAP_SYS_RESOURCE (bit 24) in our capability bounding set
    local bnd
    bnd="$(awk '/^CapBnd:/ {print $2}' /proc/self/status)"
    (( (16#${bnd:-0} >> 24) & 1 ))
}

glibc_minor() { ldd --version 2>/dev/null | awk 'NR == 1 { split($NF, v, "."); print v[2] }'; }

# --- Debian 13+: the host's own apt ----------------------------------------------------------
install_on_host() {
    if ! command -v apptainer >/dev/null || [[ "$(readlink -f "$(command -v apptainer)")" != /usr/bin/apptainer ]]; then
        write_sid_sources "" "$(mirror)"
        apt-get -o DPkg::Lock::Timeout=300 -q -o Acquire::Languages=none update >/dev/null \
            || die "apt-get update failed (with Debian sid added for apptainer)"
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -q -y \
            --no-install-recommends "${PACKAGES[@]}" >/dev/null \
            || die "the apptainer package (Debian sid) cannot be installed: apt-get install ${PACKAGES[*]} failed"
    fi
    if ! has_sys_resource; then tune_config ""; fi
}

# --- Debian 12: a Debian 13 rootfs + wrapper -------------------------------------------------
build_rootfs() { # target mirror
    local r="$1" mirror="$2"
    command -v debootstrap >/dev/null || {
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -q -y \
            --no-install-recommends debootstrap >/dev/null || die "cannot install debootstrap"
    }
    debootstrap --variant=minbase "$SUITE" "$r" "$mirror" >"$r.debootstrap.log" 2>&1 \
        || { tail -n 20 "$r.debootstrap.log" >&2; die "debootstrap $SUITE from $mirror failed"; }
    write_sid_sources "$r" "$mirror"
    cp /etc/resolv.conf "$r/etc/resolv.conf"
    # proc only in a private mount namespace: nothing stays mounted on the host
    # (apt in the chroot says "Can not write log (Is /dev/pts mounted?)": harmless)
    if ! unshare --mount --propagation private sh -euc '
        r=$1; shift
        mount -t proc proc "$r/proc"
        chroot "$r" apt-get -q -o Acquire::Languages=none update
        chroot "$r" env DEBIAN_FRONTEND=noninteractive apt-get install -q -y \
            --no-install-recommends "$@"
        chroot "$r" apt-get clean' sh "$r" "${PACKAGES[@]}" >"$r.apt.log" 2>&1; then
        tail -n 20 "$r.apt.log" >&2
        die "the apptainer package (Debian sid) cannot be installed into the $SUITE rootfs: apt-get install ${PACKAGES[*]} failed"
    fi
    [[ -x "$r/usr/bin/apptainer" ]] || die "apt-get installed no /usr/bin/apptainer into the rootfs"
    rm -rf "$r"/var/lib/apt/lists/* "$r.debootstrap.log" "$r.apt.log"
    tune_config "$r"
    # FUSE for ordinary users: this machine's /dev/fuse is 0600 (stock Debian: 0666). The
    # wrapper binds this node over /dev/fuse inside its own namespace only.
    mknod -m 666 "$r/.dev-fuse" c 10 229
}

install_rootfs() {
    local key root
    # the hash covers every input of the rootfs: suite, packages, and the steps themselves
    key="$(printf '%s\n' "$SUITE" "${PACKAGES[*]}" "$(uname -m)" \
        "$(declare -f build_rootfs write_sid_sources tune_config)" | sha256sum | cut -c1-16)"
    root="$CACHE/rootfs-$key"
    if [[ -f "$root/.sscontainer-complete" ]]; then
        log "rootfs $root exists (inputs unchanged)"
    else
        mkdir -p "$CACHE"
        rm -rf "$root.partial"
        log "building the Debian $SUITE rootfs for Apptainer in $root (about a minute)"
        local start=$SECONDS
        build_rootfs "$root.partial" "$(mirror)"
        touch "$root.partial/.sscontainer-complete"
        rm -rf "$root"
        mv "$root.partial" "$root"
        log "rootfs built in $((SECONDS - start)) s ($(du -sh "$root" | cut -f1))"
    fi
    ln -sfn "$(basename "$root")" "$CACHE/current"
    install_wrapper "$CACHE/current"
    # older rootfs (other inputs) are left alone; say so once
    local others
    others="$(find "$CACHE" -maxdepth 1 -name 'rootfs-*' ! -name "$(basename "$root")" ! -name '*.partial' | wc -l)"
    ((others == 0)) || log "$others older rootfs in $CACHE (unused; remove them to free space)"
}

install_wrapper() { # rootfs
    local tmp
    tmp="$(mktemp "$BIN_DIR/.apptainer.XXXXXX")"
    sed "s|@ROOTFS@|$1|" "$HERE/apptainer-wrapper.sh" >"$tmp"
    chmod 0755 "$tmp"
    mv -f "$tmp" "$BIN_DIR/apptainer"
    ln -sfn apptainer "$BIN_DIR/singularity"
}

ensure_test_user() {
    id -u "$TEST_USER" >/dev/null 2>&1 || useradd -m -u "$TEST_UID" -s /bin/sh "$TEST_USER"
}

ensure_test_user
if (($(glibc_minor) >= 38)); then
    log "glibc $(ldd --version | awk 'NR == 1 {print $NF}'): Apptainer from Debian sid on the host"
    install_on_host
else
    log "glibc $(ldd --version | awk 'NR == 1 {print $NF}') is older than Apptainer needs (2.38):" \
        "Debian $SUITE rootfs + wrapper"
    install_rootfs
fi
version="$(apptainer --version 2>&1)" || die "apptainer --version failed: $version"
log "$version ($(command -v apptainer))"
