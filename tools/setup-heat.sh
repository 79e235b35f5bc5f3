#!/usr/bin/env bash
# What the Heat provisioner's tests need on a fresh Debian machine (root):
# podman, buildah, runc, debootstrap (container path), the Heat 27 virtualenv
# (strict template validation) and the container image localhost/solum-git:latest.
# Idempotent; run-tests.sh calls it before pytest.
set -euo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PACKAGES=(podman buildah runc debootstrap)
missing=()
for pkg in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "the Heat tests need: apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
"$TOP/tools/setup-heat-venv.sh" >/dev/null
# a no-op when the image is current with images/ and the hook
"$TOP/tools/build-images.sh" container
