#!/usr/bin/env bash
# The Swift test peer: swift (2.32.0, OpenStack 2023.2) with keystonemiddleware
# (for a proxy behind Keystone) in .venv-swift. Its pyeclib 1.6.1 builds from
# source against Debian's liberasurecode-dev (tools/setup-env.sh installs it);
# tests/peers/swift.py also needs memcached (tempauth keeps tokens there).
set -euo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
exec "$TOP/tools/peer-testenv.sh" "${SWIFT_TESTENV:-$TOP/.venv-swift}" \
    'import swift.proxy.server, swift.obj.server, pyeclib, xattr, keystonemiddleware.auth_token' \
    swift keystonemiddleware
