#!/usr/bin/env bash
# The whole test suite on a fresh Debian/Ubuntu machine: installs what is
# missing (system packages, virtualenvs, the container image), then runs pytest
# on 2 workers. Needs MariaDB on 127.0.0.1:3306 (root, no password) and
# PostgreSQL on 127.0.0.1:5432 (trust): the database tests fail, never skip,
# without them.
set -euo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$TOP/tools/setup-env.sh"
SYSTEM_PACKAGES+=("${TEST_SYSTEM_PACKAGES[@]}")
install_system_packages
make_venv -r "$TOP/test-requirements.txt"

# the lint (tox -e pep8) first, ~20 s; the tests run whatever it finds, and a
# finding fails the run at the end
lint=0
PATH="$VENV/bin:$PATH" "$TOP/tools/lint.sh" || lint=1

# test peers in their own virtualenvs (Heat 27, Solum 15, Keystone 24, Swift 2.32)
# and the container image: independent, so made side by side
logs=$(mktemp -d)
setups=()
for peer in heat:setup-heat.sh solum:solum-testenv.sh keystone:keystone-testenv.sh \
        swift:swift-testenv.sh; do
    "$TOP/tools/${peer#*:}" >"$logs/${peer%%:*}.log" 2>&1 &
    setups+=("${peer%%:*}:$!")
done
# every set-up runs to its end (none left behind), then each failure shows its log
failed=0
for setup in "${setups[@]}"; do
    if ! wait "${setup#*:}"; then
        echo "set-up of ${setup%%:*} failed:" >&2
        cat "$logs/${setup%%:*}.log" >&2
        failed=1
    fi
done
[ "$failed" -eq 0 ] || exit 1
rm -rf "$logs"

cd "$TOP"
status=0
"$VENV/bin/python" -m pytest -n "${SOLUM_GIT_TEST_WORKERS:-2}" -p no:cacheprovider \
    --durations=20 tests "$@" || status=$?
if [ "$lint" -ne 0 ]; then
    echo "tools/lint.sh failed (its findings are above the tests' output)" >&2
    [ "$status" -ne 0 ] || status=1
fi
exit "$status"
