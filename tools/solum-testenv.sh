#!/usr/bin/env bash
# The Solum test peer's virtualenv: Solum 15.0.0 from PyPI in .venv-solum,
# pinned by OpenStack 2023.2's upper constraints (the shared copy when it is
# there, else tools/solum-testenv-constraints.txt: the pip freeze of such a
# venv). Kept apart from .venv: Solum needs older SQLAlchemy, oslo.db, pecan.
# Idempotent and quick once made (a stamp records what was installed);
# tools/run-tests.sh and the solum pipeline test call it.
set -euo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${SOLUM_TESTENV:-$TOP/.venv-solum}
PYTHON=${PYTHON:-python3}
SOLUM=solum==15.0.0
CONSTRAINTS=${SOLUM_CONSTRAINTS:-$TOP/../shared/data/openstack-2023.2-upper-constraints.txt}
[ -f "$CONSTRAINTS" ] || CONSTRAINTS=$TOP/tools/solum-testenv-constraints.txt
STAMP=$VENV/.solum-testenv
WANT="$SOLUM $(sha256sum "$CONSTRAINTS" | cut -c1-16)"

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] && [ -x "$VENV/bin/python" ]; then
    exit 0
fi
# a lock so that two test workers never build it at the same time
exec 9>"$VENV.lock"
flock 9
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ]; then
    exit 0
fi
echo "solum-testenv: installing $SOLUM into $VENV (constraints: $CONSTRAINTS)" >&2
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
LOG=$(mktemp)
"$VENV/bin/pip" install -q --disable-pip-version-check -c "$CONSTRAINTS" "$SOLUM" >"$LOG" 2>&1 \
    || { grep -v '^WARNING: Location' "$LOG" >&2; rm -f "$LOG"; exit 1; }
rm -f "$LOG"
"$VENV/bin/python" -c "import solum.api.app" 2>/dev/null
echo "$WANT" >"$STAMP"
