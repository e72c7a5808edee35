#!/usr/bin/env bash
# What the RedisAI-compatible module needs in CI (idempotent):
# - a C compiler: `pip install -e .` compiles sscontainer/db/redisai/src (hatch_build.py);
# - Debian's redis-server 7 and redis-tools, unpacked under /opt/redis7 and NOT installed:
#   on PATH, redis-server would take valkey's place as every test's server (db/binary.py
#   looks at PATH first). The module's tests load it into /opt/redis7/usr/bin/redis-server
#   too, and benchmarks/module_overhead.py uses its redis-benchmark.
set -euo pipefail
REDIS7=/opt/redis7
need=()
command -v cc >/dev/null 2>&1 || need+=(gcc libc6-dev)
# the libraries redis-server/redis-tools link (libraries only: no binaries on PATH)
ldconfig -p | grep -q libjemalloc.so.2 || need+=(libjemalloc2)
ldconfig -p | grep -q liblzf.so.1 || need+=(liblzf1)
if [ ${#need[@]} -gt 0 ] || [ ! -x "$REDIS7/usr/bin/redis-server" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
fi
if [ ${#need[@]} -gt 0 ]; then
    apt-get install -y -q --no-install-recommends "${need[@]}"
fi
if [ ! -x "$REDIS7/usr/bin/redis-server" ]; then
    tmp=$(mktemp -d)
    (cd "$tmp" && apt-get download redis-server redis-tools)
    for deb in "$tmp"/*.deb; do dpkg -x "$deb" "$REDIS7"; done
    rm -rf "$tmp"
fi
"$REDIS7/usr/bin/redis-server" --version
