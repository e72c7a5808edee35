#!/usr/bin/env bash
# Build sscontainer's images for the test suite (and for pushing, see
# .github/workflows/images.yml):
#   1. images/bootstrap-base.sh  -> sscontainer/bookworm-minbase:<hash> (+ :latest), ~1 min once
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

# bootstrap-base.sh moves :latest to the image of its current inputs; the base spec
# builds FROM :latest and its tag includes that image's id.
bootstrap="$(images/bootstrap-base.sh)"
echo "build-images: bootstrap image $bootstrap" >&2
"$PYTHON" -m sscontainer.build.images "${QUIET[@]}"
