#!/usr/bin/env bash
# One machine, one command: install what is missing, write a config, upgrade the
# database and run solum-git (API + engine) in the foreground on 127.0.0.1:9778.
set -euo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

if [ "$(id -u)" -eq 0 ]; then
    DEFAULT_STATE=/var/lib/solum-git
else
    DEFAULT_STATE=${XDG_STATE_HOME:-$HOME/.local/state}/solum-git
fi
STATE=${SOLUM_GIT_STATE:-$DEFAULT_STATE}
PORT=${SOLUM_GIT_PORT:-9778}
CONFIG=$STATE/solum-git.conf
if [ -r "$CONFIG" ]; then  # the config written the first time keeps its port
    PORT=$(awk -F' *= *' '/^\[/ {group = $0} group == "[api]" && $1 == "port" {p = $2}
                         END {print p}' "$CONFIG")
    PORT=${PORT:-9778}
fi
# held from here until the API (this very process, after exec) exits
LOCK=$STATE/quickstart.lock

already_running() {
    echo "solum-git is already running on http://127.0.0.1:$1 (pid $2); stop it" \
         "(kill $2) or start another with SOLUM_GIT_STATE=<dir> SOLUM_GIT_PORT=<port>" >&2
    exit 1
}

# A second quickstart changes nothing of the first's: it stops before any set-up
# (mkdir -p and opening the lock to append leave an existing state as it is).
umask 077
mkdir -p "$STATE"
exec 9>>"$LOCK"
if ! flock -n 9; then
    read -r pid port <"$LOCK" || true
    already_running "${port:-$PORT}" "${pid:-unknown}"
fi
echo "$$ $PORT" >"$LOCK"
if (: <"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    holder=$(ss -Hltnp "sport = :$PORT" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n1 || true)
    holder=${holder#pid=}
    if [ -n "$holder" ] && tr '\0' ' ' <"/proc/$holder/cmdline" 2>/dev/null \
            | grep -q solum-git-api; then
        already_running "$PORT" "$holder"
    fi
    echo "port $PORT on 127.0.0.1 is in use${holder:+ (pid $holder)}; choose another" \
         "with SOLUM_GIT_PORT=<port>" >&2
    exit 1
fi

source "$TOP/tools/setup-env.sh"
install_system_packages
# no extra pip arguments here: the quickstart needs solum-git's requirements only
# shellcheck disable=SC2119
make_venv

# the state is the service's alone (database, config, admin keys). As root the
# git servers' own users walk through it to their homes in stacks/: traverse
# (711), never list; chmod 700 here would cut git-over-SSH of running servers.
# solum-git itself runs with umask 077 and makes its files 0600/0700.
if [ "$(id -u)" -eq 0 ]; then chmod 711 "$STATE"; else chmod 700 "$STATE"; fi
if [ -f "$CONFIG" ]; then chmod 600 "$CONFIG"; fi
if [ ! -f "$CONFIG" ]; then
    cat > "$CONFIG" <<CONF
[DEFAULT]
state_path = $STATE

[api]
host = 127.0.0.1
port = $PORT
auth_strategy = noauth

[database]
connection = sqlite:///$STATE/solum-git.sqlite

[engine]
in_process = true

[provisioner]
driver = local
CONF
    echo "Wrote $CONFIG"
fi
# the engine seals the stacks' private keys (and triggers' secrets) under these
# keys: a config made before that gets a key file of its own, once
if ! grep -q '^\[secrets\]' "$CONFIG"; then
    (umask 077 && "$VENV/bin/solum-git-manage" --config-file /dev/null secrets new-key \
        >"$STATE/secrets.keys")
    cat >> "$CONFIG" <<CONF

[secrets]
# Written by tools/quickstart.sh: one Fernet key per line, the first one encrypts
key_file = $STATE/secrets.keys
CONF
fi
"$VENV/bin/solum-git-manage" --config-file "$CONFIG" db upgrade

# Tenant commands (test_cmd, run_cmd) run in a bubblewrap sandbox. Only if a real
# tiny run cannot work here, and the config does not choose a sandbox, does this
# fall back to none, and it says so.
if ! CHECK=$("$VENV/bin/solum-git-manage" --config-file "$CONFIG" sandbox check 2>&1); then
    if grep -q '^\[sandbox\]' "$CONFIG"; then
        echo "$CHECK" >&2
        echo "$CONFIG chooses a sandbox that cannot run here; fix it (docs/security.rst)." >&2
        exit 1
    fi
    cat >> "$CONFIG" <<CONF

[sandbox]
# Written by tools/quickstart.sh because the bubblewrap sandbox cannot run here:
# $CHECK
# Every project's test_cmd and run_cmd run UNCONFINED as $(id -un). Only for a
# single trusted developer: fix the sandbox and remove this section.
driver = none
CONF
    cat >&2 <<WARN

==============================================================================
WARNING: NO SANDBOX. Tenant commands will run unconfined, as $(id -un).
The bubblewrap sandbox cannot run on this machine:
  $CHECK
$CONFIG now says [sandbox] driver = none: every project's test_cmd and
run_cmd can read and change everything this service can (its database, its
config, every stack's keys and secrets). Only for a single trusted developer.
Fix the sandbox (docs/security.rst), delete that [sandbox] section, restart.
==============================================================================

WARN
else
    echo "${CHECK#OK: }"
fi

cat <<NEXT

solum-git is starting on http://127.0.0.1:$PORT (Ctrl-C stops it).
In another terminal:
  export PATH=$VENV/bin:\$PATH
  export SOLUM_GIT_URL=http://127.0.0.1:$PORT OS_PROJECT_ID=demo OS_USER_ID=$(id -un)
  curl -s -H "X-Project-Id: demo" -H "X-User-Id: $(id -un)" http://127.0.0.1:$PORT/v1/infrastructure
Then follow README.rst from "Use it".

NEXT
exec "$VENV/bin/solum-git-api" --config-file "$CONFIG"
