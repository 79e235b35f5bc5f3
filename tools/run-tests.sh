#!/usr/bin/env bash
# The whole test suite on a fresh Debian/Ubuntu machine: installs what is
# missing (system packages, virtualenvs, the container image), then runs pytest
# on 2 workers. Needs MariaDB on 127.0.0.1:3306 (root, no password) and
# PostgreSQL on 127.0.0.1:5432 (trust): the database tests fail, never skip,
# without them.
set -euo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$TOP/tools/setup-env.sh"
install_system_packages
make_venv -r "$TOP/test-requirements.txt"

# test peers in their own virtualenvs (Heat 27, Solum 15) and the container
# image: independent, so made side by side
logs=$(mktemp -d)
"$TOP/tools/setup-heat.sh" >"$logs/heat.log" 2>&1 & heat=$!
"$TOP/tools/solum-testenv.sh" >"$logs/solum.log" 2>&1 & solum=$!
for job in "heat:$heat" "solum:$solum"; do
    if ! wait "${job#*:}"; then
        echo "set-up of ${job%%:*} failed:" >&2
        cat "$logs/${job%%:*}.log" >&2
        exit 1
    fi
done

cd "$TOP"
exec "$VENV/bin/python" -m pytest -n "${SOLUM_GIT_TEST_WORKERS:-2}" -p no:cacheprovider \
    --durations=20 tests "$@"
