#!/usr/bin/env bash
# The lint of CI (tools/run-tests.sh) and `tox -e pep8`, all of it, from the top
# of the tree: flake8 with hacking, bandit, shellcheck on every shell script,
# mypy on the typed packages, the check that their public interfaces are typed.
# Each step runs even when one before it failed; the exit status says if any did.
# The tools come from PATH (the tox env, or .venv/bin that run-tests.sh puts first).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1

failed=()
step() {
    local name=$1
    shift
    echo "lint: $name" >&2
    "$@" || failed+=("$name")
}

# git's file list; outside a git clone (an unpacked tarball), every file but
# those of hidden directories (.venv, .tox, .git)
tracked_files() {
    if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git ls-files -z
    else
        find . -path './.*' -prune -o -type f -printf '%P\0'
    fi
}

# every shell script in git's file list: *.sh, or a file whose first line is a
# sh/bash shebang (diskimage-builder elements and stand-ins have no extension)
shell_scripts() {
    local f line
    tracked_files | while IFS= read -r -d '' f; do
        [ -f "$f" ] || continue
        case "$f" in
            *.sh) printf '%s\0' "$f"; continue ;;
        esac
        IFS= read -r line <"$f" 2>/dev/null || continue
        case "$line" in
            '#!'*/sh | '#!'*/bash | '#!'*'env bash' | '#!'*'env sh') printf '%s\0' "$f" ;;
        esac
    done
}

run_shellcheck() {
    local scripts=()
    mapfile -d '' scripts < <(shell_scripts)
    [ "${#scripts[@]}" -gt 0 ] || { echo "lint: no shell script found" >&2; return 1; }
    # -x follows `source`d files (setup-env.sh); the severity is shellcheck's default (all)
    shellcheck -x "${scripts[@]}"
}

step flake8 flake8 solum_git tests bench tools
# medium and high findings fail; an accepted one has `# nosec BNNN` on its line and
# `# bandit BNNN: why` above it
step bandit bandit -q -r solum_git --severity-level medium
step shellcheck run_shellcheck
step mypy mypy    # what and how strictly: [mypy] in setup.cfg
step type-hints python tools/check_hints.py

if [ "${#failed[@]}" -gt 0 ]; then
    echo "lint failed: ${failed[*]}" >&2
    exit 1
fi
echo "lint: clean" >&2
