#!/usr/bin/env bash
# A test peer's virtualenv from PyPI, pinned by OpenStack 2023.2's upper
# constraints (tools/peers-testenv-constraints.txt: the lines of the
# 2023.2-eol upper-constraints.txt these peers install, plus the peer releases
# of that cycle). Kept apart from .venv: the peers' pins are not ours.
# Idempotent and quick once made (a stamp records what was installed); a lock
# keeps two test workers from building it at once.
#   peer-testenv.sh VENV CHECK PACKAGE...   (CHECK: python code that must run)
set -euo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=$1 CHECK=$2
shift 2
PYTHON=${PYTHON:-python3}
CONSTRAINTS=${PEER_CONSTRAINTS:-$TOP/tools/peers-testenv-constraints.txt}
STAMP=$VENV/.peer-testenv
WANT="$* $(sha256sum "$CONSTRAINTS" | cut -c1-16)"

current() { [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] && [ -x "$VENV/bin/python" ]; }
current && exit 0
exec 9>"$VENV.lock"
flock 9
current && exit 0
echo "peer-testenv: installing $* into $VENV (constraints: $CONSTRAINTS)" >&2
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
LOG=$(mktemp)
"$VENV/bin/pip" install -q --disable-pip-version-check -c "$CONSTRAINTS" "$@" >"$LOG" 2>&1 \
    || { grep -v '^WARNING: Location' "$LOG" >&2; rm -f "$LOG"; exit 1; }
rm -f "$LOG"
"$VENV/bin/python" -c "$CHECK"
echo "$WANT" >"$STAMP"
