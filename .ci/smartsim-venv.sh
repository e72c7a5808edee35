#!/usr/bin/env bash
# A venv holding SmartSim 0.8.0 (the reference the differential tests compare with).
# Idempotent: an existing venv with smartsim 0.8.0 is reused. Prints the export line.
set -euo pipefail
venv=${SSCONTAINER_SMARTSIM_VENV:-/opt/sscontainer-ci/smartsim-0.8.0}
if ! "$venv/bin/python" -c "import smartsim; assert smartsim.__version__ == '0.8.0'" 2>/dev/null; then
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install -q smartsim==0.8.0 >&2
fi
echo "export SSCONTAINER_SMARTSIM_PYTHON=$venv/bin/python"
