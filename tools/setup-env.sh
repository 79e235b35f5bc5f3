#!/usr/bin/env bash
# Shared by quickstart.sh and run-tests.sh: system packages, virtualenv, solum-git.
# Sourced; sets VENV. Installs with apt-get when root, else prints the command.
set -euo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${SOLUM_GIT_VENV:-$TOP/.venv}
PYTHON=${PYTHON:-python3}

SYSTEM_PACKAGES=(git gitolite3 openssh-server openssh-client ${EXTRA_SYSTEM_PACKAGES:-})
# Debian's python3 has no venv module without python3-venv
"$PYTHON" -c 'import ensurepip, venv' 2>/dev/null || SYSTEM_PACKAGES+=(python3-venv)

missing_packages() {
    local missing=()
    for pkg in "${SYSTEM_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
            || missing+=("$pkg")
    done
    echo "${missing[@]:-}"
}

install_system_packages() {
    local missing
    missing=$(missing_packages)
    [ -z "$missing" ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "solum-git needs these system packages: $missing" >&2
        echo "Install them, then run this again:" >&2
        echo "  sudo apt-get update && sudo apt-get install -y $missing" >&2
        exit 1
    fi
    echo "Installing system packages: $missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq $missing >/dev/null
}

make_venv() {
    if [ ! -x "$VENV/bin/python" ]; then
        "$PYTHON" -m venv "$VENV"
    fi
    "$VENV/bin/pip" install -q --upgrade pip >/dev/null
    "$VENV/bin/pip" install -q -e "$TOP" "$@"
}
