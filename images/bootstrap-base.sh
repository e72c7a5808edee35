#!/usr/bin/env bash
# Build sscontainer's bootstrap image from Debian packages: no registry needed.
#
#   debootstrap --variant=minbase + `docker import`  ->  sscontainer/bookworm-minbase:<hash>
#
# The tag is a hash of the inputs below, so the image is rebuilt only when they
# change; when that tag exists nothing is done. `:latest` is moved to it.
# The Debian mirror is read from this machine's apt sources at run time (or
# $SSC_DEBIAN_MIRROR) and stays in the image's /etc/apt/sources.list: fine for
# local builds, but note it if you push the image elsewhere.
# Prints the image reference on stdout; progress goes to stderr. Needs root.
set -euo pipefail

NAME="${SSC_BOOTSTRAP_NAME:-sscontainer/bookworm-minbase}"
SUITE=bookworm
VARIANT=minbase
# python3-click: sscontainer's CLI; the rest: what sscontainer runs on inside images.
PACKAGES=python3,python3-pip,python3-venv,python3-numpy,python3-redis,python3-yaml,python3-jinja2,python3-click,redis-server,redis-tools,ca-certificates
IMPORT_CHANGES=(
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    "ENV LANG=C.UTF-8"
    'CMD ["/bin/bash"]'
)
# Bump when the steps below change in a way that changes the image.
RECIPE_VERSION=1

log() { echo "bootstrap-base: $*" >&2; }

inputs="$RECIPE_VERSION|$SUITE|$VARIANT|$PACKAGES|$(printf '%s;' "${IMPORT_CHANGES[@]}")|$(uname -m)"
TAG="$(printf '%s' "$inputs" | sha256sum | cut -c1-16)"
REF="$NAME:$TAG"

if docker image inspect "$REF" >/dev/null 2>&1; then
    log "$REF exists: nothing to do"
    docker tag "$REF" "$NAME:latest"
    echo "$REF"
    exit 0
fi

mirror() {
    if [[ -n "${SSC_DEBIAN_MIRROR:-}" ]]; then
        echo "$SSC_DEBIAN_MIRROR"; return
    fi
    local f=/etc/apt/sources.list.d/debian.sources uri
    if [[ -f "$f" ]]; then
        # deb822: the URIs of the stanza whose Suites include $SUITE (not -security/-updates).
        uri="$(awk -v suite="$SUITE" '
            /^[[:space:]]*$/ { if (s && u) { print u; exit } s = 0; u = ""; next }
            /^URIs:/ { u = $2 }
            /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite) s = 1 }
            END { if (s && u) print u }' "$f" | head -n1)"
        if [[ -n "$uri" ]]; then echo "$uri"; return; fi
    fi
    if [[ -f /etc/apt/sources.list ]]; then
        uri="$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' \
            /etc/apt/sources.list | head -n1)"
        if [[ -n "$uri" ]]; then echo "$uri"; return; fi
    fi
    log "no Debian mirror found in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list:"
    log "set SSC_DEBIAN_MIRROR=<mirror URL>"
    exit 1
}

command -v debootstrap >/dev/null || { log "debootstrap is missing: apt-get install -y debootstrap"; exit 1; }
docker info >/dev/null 2>&1 || { log "the Docker Engine is not reachable: run .ci/docker-up.sh"; exit 1; }
[[ "$(id -u)" == 0 ]] || { log "debootstrap needs root"; exit 1; }

MIRROR="$(mirror)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/sscontainer-rootfs.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
ROOTFS="$WORK/rootfs"

log "debootstrap $SUITE ($VARIANT) from $MIRROR into $ROOTFS"
start=$SECONDS
debootstrap --variant="$VARIANT" --include="$PACKAGES" "$SUITE" "$ROOTFS" "$MIRROR" \
    > "$WORK/debootstrap.log" 2>&1 || { tail -n 30 "$WORK/debootstrap.log" >&2; exit 1; }
chroot "$ROOTFS" apt-get clean
rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/*.bin
log "debootstrap took $((SECONDS - start)) s"

changes=()
for c in "${IMPORT_CHANGES[@]}"; do changes+=(--change "$c"); done
tar -C "$ROOTFS" --numeric-owner -c . | docker import "${changes[@]}" - "$REF" >/dev/null
docker tag "$REF" "$NAME:latest"
log "imported $REF in $((SECONDS - start)) s ($(docker image inspect -f '{{.Size}}' "$REF") bytes)"
echo "$REF"
