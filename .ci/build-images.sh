#!/usr/bin/env bash
# Build sscontainer's images for the test suite (and for pushing, see
# .github/workflows/images.yml):
#   1. images/bootstrap-base.sh  -> sscontainer/bookworm-minbase:<hash> (+ :latest), ~1 min once
#      (skipped when the registry gives debian:bookworm-slim: step 2 builds on that)
#   2. images/base               -> sscontainer/base:<version> (+ :latest)
#   3. images/orchestrator       -> sscontainer/orchestrator:<version> (+ :latest)
# Steps 2-3 are built from the same specs as images/*/Dockerfile through the docker
# SDK; their tags are content-addressed, so unchanged images are not rebuilt.
# Needs a running engine (.ci/docker-up.sh) and root (debootstrap).
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
QUIET=()
[[ "${SSC_QUIET:-0}" == 1 ]] && QUIET=(--quiet)

# With a reachable registry the chain starts from its plain Debian image (the base spec
# installs the packages the bootstrap image would hold): no debootstrap. Otherwise
# bootstrap-base.sh moves :latest to the image of its current inputs; the base spec
# builds FROM :latest and its tag includes that image's id.
REGISTRY_BASE="${SSC_REGISTRY_BASE:-debian:bookworm-slim}"
if [[ "${SSC_NO_REGISTRY:-0}" != 1 ]] && timeout 300 docker pull -q "$REGISTRY_BASE" >/dev/null 2>&1; then
    echo "build-images: $REGISTRY_BASE pulled from the registry: no debootstrap" >&2
    "$PYTHON" -m sscontainer.build.images --bootstrap "$REGISTRY_BASE" "${QUIET[@]}"
else
    bootstrap="$(images/bootstrap-base.sh)"
    echo "build-images: no registry; bootstrap image $bootstrap (debootstrap)" >&2
    "$PYTHON" -m sscontainer.build.images "${QUIET[@]}"
fi
