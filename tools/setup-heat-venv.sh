#!/usr/bin/env bash
# A separate virtualenv with the real Heat engine (openstack-heat 27.x) for
# tools/heat_validate.py: its pins clash with solum-git's own, so it never
# shares solum-git's virtualenv. Idempotent; prints the python to use.
set -euo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HEAT_VENV=${SOLUM_GIT_HEAT_VENV:-$TOP/.venv-heat}
PYTHON=${PYTHON:-python3}
if ! "$HEAT_VENV/bin/python" -c 'import heat.engine.stack' 2>/dev/null; then
    "$PYTHON" -m venv "$HEAT_VENV"
    "$HEAT_VENV/bin/pip" install -q --disable-pip-version-check \
        'openstack-heat>=27,<28' 2>&1 | grep -v '^WARNING: Location' || true
    "$HEAT_VENV/bin/python" -c 'import heat.engine.stack'
fi
echo "$HEAT_VENV/bin/python"
