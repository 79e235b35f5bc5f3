#!/usr/bin/env bash
# Shared by quickstart.sh and run-tests.sh: system packages, virtualenv, solum-git.
# Sourced; sets VENV. Installs with apt-get when root, else prints the command.
set -euo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${SOLUM_GIT_VENV:-$TOP/.venv}
PYTHON=${PYTHON:-python3}

# bubblewrap (bwrap) and util-linux (setpriv, prlimit): the sandbox of tenant commands;
# and the shell lint (shellcheck: tools/lint.sh and tests/unit/test_shellcheck.py)
# EXTRA_SYSTEM_PACKAGES is a space-separated list: split on purpose
# shellcheck disable=SC2206
SYSTEM_PACKAGES=(git gitolite3 openssh-server openssh-client bubblewrap util-linux shellcheck
                 ${EXTRA_SYSTEM_PACKAGES:-})
# the test peers' (run-tests.sh adds them, before its set-ups run side by side and
# before anything else runs apt): memcached for Swift's tempauth, liberasurecode-dev
# and a compiler for the pyeclib that Swift 2.32 pins (built from source)
# shellcheck disable=SC2034  # read by run-tests.sh, which sources this file
TEST_SYSTEM_PACKAGES=(memcached liberasurecode-dev gcc python3-dev)
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

# The virtualenv with solum-git installed editable from this tree, plus what "$@"
# asks of pip (-r test-requirements.txt). The editable install is redone only when
# setup.cfg changed (entry points, metadata) or the venv has another tree's; pip
# leaves satisfied requirements alone. So a second run changes nothing, and a
# running solum-git never sees its own files reinstalled under it.
make_venv() {
    local stamp=$VENV/.solum-git-setup.cfg
    if [ ! -x "$VENV/bin/python" ]; then
        "$PYTHON" -m venv "$VENV"
        "$VENV/bin/pip" install -q --upgrade pip >/dev/null
    fi
    if cmp -s "$TOP/setup.cfg" "$stamp" && "$VENV/bin/python" -c \
            'import sys, solum_git; sys.exit(solum_git.__file__ != sys.argv[1])' \
            "$TOP/solum_git/__init__.py" 2>/dev/null; then
        "$VENV/bin/pip" install -q -r "$TOP/requirements.txt" "$@"
    else
        "$VENV/bin/pip" install -q -e "$TOP" "$@"
        cp "$TOP/setup.cfg" "$stamp"
    fi
}
