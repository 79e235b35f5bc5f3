#!/usr/bin/env bash
# The whole test suite on a fresh Debian/Ubuntu machine: installs what is
# missing (system packages, virtualenv), then runs pytest on 2 workers.
# Needs MariaDB on 127.0.0.1:3306 (root, no password) and PostgreSQL on
# 127.0.0.1:5432 (trust): the database tests fail, never skip, without them.
set -euo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$TOP/tools/setup-env.sh"
install_system_packages
make_venv -r "$TOP/test-requirements.txt"
cd "$TOP"
exec "$VENV/bin/python" -m pytest -n "${SOLUM_GIT_TEST_WORKERS:-2}" -p no:cacheprovider \
    tests "$@"
