#!/usr/bin/env bash
# The Keystone test peer: keystone (24.0.0, OpenStack 2023.2) and gunicorn (its
# WSGI server: pure Python, in the same upper constraints, clean SIGTERM) in
# .venv-keystone, and a template of Keystone's state made once per venv by
# keystone-manage db_sync, fernet_setup and credential_setup (the schema and the
# key repositories: ~3 s of imports each). tests/peers/keystone.py copies it,
# runs keystone-manage bootstrap for the live port and serves it on SQLite.
set -euo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${KEYSTONE_TESTENV:-$TOP/.venv-keystone}
"$TOP/tools/peer-testenv.sh" "$VENV" 'import keystone.server.wsgi, gunicorn' keystone gunicorn

TEMPLATE=$VENV/keystone-template
[ -f "$TEMPLATE/.done" ] && exit 0
exec 9>"$VENV.lock"
flock 9
[ -f "$TEMPLATE/.done" ] && exit 0
rm -rf "$TEMPLATE"
mkdir -p "$TEMPLATE"
cat >"$TEMPLATE/keystone.conf" <<CONF
[database]
connection = sqlite:///$TEMPLATE/keystone.sqlite
[fernet_tokens]
key_repository = $TEMPLATE/fernet-keys
[credential]
key_repository = $TEMPLATE/credential-keys
CONF
owner=(--keystone-user "$(id -un)" --keystone-group "$(id -gn)")
pids=()
for step in db_sync fernet_setup credential_setup; do
    args=("$step")
    [ "$step" = db_sync ] || args+=("${owner[@]}")
    "$VENV/bin/keystone-manage" --config-file "$TEMPLATE/keystone.conf" "${args[@]}" \
        >"$TEMPLATE/$step.log" 2>&1 &
    pids+=("$step:$!")
done
for job in "${pids[@]}"; do
    wait "${job#*:}" || { echo "keystone-manage ${job%%:*} failed:" >&2;
                          cat "$TEMPLATE/${job%%:*}.log" >&2; exit 1; }
done
touch "$TEMPLATE/.done"
