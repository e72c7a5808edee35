#!/usr/bin/env bash
# Make a Docker Engine available for the test suite and the image builds.
#
# Installs docker.io and debootstrap when missing (apt-get), then starts dockerd
# only when `docker info` fails (a running engine is left alone), and waits until
# it answers, at most $SSC_DOCKER_WAIT_S seconds (default 60).
# dockerd runs without iptables and without the default bridge: containers use
# host networking (or none); see the recipe in DESIGN/recipes/docker.md.
# The pid of a dockerd started here is written to $SSC_DOCKER_PIDFILE.
set -euo pipefail

WAIT_S="${SSC_DOCKER_WAIT_S:-60}"
PIDFILE="${SSC_DOCKER_PIDFILE:-/tmp/sscontainer-dockerd.pid}"
LOG="${SSC_DOCKER_LOG:-/tmp/sscontainer-dockerd.log}"

log() { echo "docker-up: $*" >&2; }

missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v debootstrap >/dev/null || missing+=(debootstrap)
if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if docker info >/dev/null 2>&1; then
    log "engine already running: $(docker version -f '{{.Server.Version}}' 2>/dev/null)"
    exit 0
fi

log "starting dockerd (log: $LOG)"
setsid dockerd --iptables=false --bridge=none >"$LOG" 2>&1 < /dev/null &
echo $! >"$PIDFILE"

for ((i = 0; i < WAIT_S * 2; i++)); do
    if docker info >/dev/null 2>&1; then
        log "engine up after $((i / 2)) s: $(docker version -f '{{.Server.Version}}' 2>/dev/null)"
        exit 0
    fi
    if ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
        log "dockerd exited; last lines of $LOG:"
        tail -n 20 "$LOG" >&2
        exit 1
    fi
    sleep 0.5
done
log "dockerd did not answer within ${WAIT_S} s; last lines of $LOG:"
tail -n 20 "$LOG" >&2
exit 1
