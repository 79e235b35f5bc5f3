#!/usr/bin/env bash
# One machine, one command: install what is missing, write a config, upgrade the
# database and run solum-git (API + engine) in the foreground on 127.0.0.1:9778.
set -euo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$TOP/tools/setup-env.sh"
install_system_packages
make_venv

if [ "$(id -u)" -eq 0 ]; then
    DEFAULT_STATE=/var/lib/solum-git
else
    DEFAULT_STATE=${XDG_STATE_HOME:-$HOME/.local/state}/solum-git
fi
STATE=${SOLUM_GIT_STATE:-$DEFAULT_STATE}
PORT=${SOLUM_GIT_PORT:-9778}
CONFIG=$STATE/solum-git.conf
mkdir -p "$STATE"
chmod 700 "$STATE"
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
"$VENV/bin/solum-git-manage" --config-file "$CONFIG" db upgrade

cat <<NEXT

solum-git is starting on http://127.0.0.1:$PORT (Ctrl-C stops it).
In another terminal:
  export PATH=$VENV/bin:\$PATH
  export SOLUM_GIT_URL=http://127.0.0.1:$PORT OS_PROJECT_ID=demo OS_USER_ID=$(id -un)
  curl -s -H "X-Project-Id: demo" -H "X-User-Id: $(id -un)" http://127.0.0.1:$PORT/v1/infrastructure
Then follow README.rst from "Use it".

NEXT
exec "$VENV/bin/solum-git-api" --config-file "$CONFIG"
