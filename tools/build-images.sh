#!/usr/bin/env bash
# Build (and try) the solum-git git server images on this machine, with no
# registry and no Docker daemon:
#   tools/build-images.sh base        Debian bookworm rootfs (debootstrap) as
#                                     local image localhost/solum-git-base:bookworm
#   tools/build-images.sh container   images/Dockerfile with buildah (vfs, chroot)
#                                     -> localhost/solum-git:latest
#   tools/build-images.sh qcow2       diskimage-builder -> $OUT/solum-git-gitolite.qcow2
#   tools/build-images.sh boot        boot the QCOW2 under qemu (TCG) with a NoCloud
#                                     seed holding Heat's user_data; git push over
#                                     the forwarded SSH port, host key pinned
#   tools/build-images.sh all         the four, timed
# Needs root and: debootstrap buildah podman runc qemu-utils qemu-system-x86
# cloud-image-utils (tools/setup-images.sh installs them). Times: images/README.rst.
set -euo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${SOLUM_GIT_IMAGES_OUT:-$TOP/.images}
VENV=${SOLUM_GIT_VENV:-$TOP/.venv}
DIB_VENV=${SOLUM_GIT_DIB_VENV:-$TOP/.venv-dib}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
BASE_IMAGE=localhost/solum-git-base:bookworm
IMAGE=${SOLUM_GIT_CONTAINER_IMAGE:-localhost/solum-git:latest}
PODMAN=(podman --storage-driver vfs)
mkdir -p "$OUT"

say() { printf '%s build-images: %s\n' "$(date +%T)" "$*" >&2; }
timed() {
    local start=$SECONDS
    "$@"
    say "$1 took $((SECONDS - start)) s"
}

base() {
    if "${PODMAN[@]}" image exists "$BASE_IMAGE"; then say "$BASE_IMAGE exists"; return; fi
    local root=$OUT/rootfs
    rm -rf "$root"
    debootstrap --variant=minbase --include=ca-certificates bookworm "$root" "$MIRROR" >&2
    tar -C "$root" -c . | "${PODMAN[@]}" import - "$BASE_IMAGE" >&2
    rm -rf "$root"
}

# what the container image is made of: rebuilt only when one of these changes
inputs_hash() {
    (cd "$TOP" && cat images/Dockerfile images/bootstrap.sh images/container-start.sh \
        solum_git/hook/main.py solum_git/server/*.py) | sha256sum | cut -c1-16
}

container() {
    local hash
    hash=$(inputs_hash)
    if [ "$("${PODMAN[@]}" image inspect --format '{{index .Labels "solum-git.inputs"}}' \
            "$IMAGE" 2>/dev/null)" = "$hash" ]; then
        say "$IMAGE is current ($hash)"
        return
    fi
    "${PODMAN[@]}" image exists "$BASE_IMAGE" || base
    buildah --storage-driver vfs bud --isolation chroot --build-arg "BASE=$BASE_IMAGE" \
        --label "solum-git.inputs=$hash" -t "$IMAGE" -f "$TOP/images/Dockerfile" "$TOP" >&2
}

qcow2() {
    if [ ! -x "$DIB_VENV/bin/disk-image-create" ]; then
        python3 -m venv "$DIB_VENV"
        "$DIB_VENV/bin/pip" install -q 'diskimage-builder>=3.43' 2>&1 | grep -v '^WARNING: Location' || true
    fi
    # no device-mapper in this kernel: thin kpartx/dmsetup stand-ins (tools/dib-standins)
    PATH=$TOP/tools/dib-standins:$DIB_VENV/bin:$PATH \
    ELEMENTS_PATH=$TOP/images/elements SOLUM_GIT_SOURCE=$TOP \
    DIB_RELEASE=bookworm DIB_DEBIAN_COMPONENTS=main DIB_DISTRIBUTION_MIRROR=$MIRROR \
    DIB_DEBIAN_SECURITY_MIRROR=${DEBIAN_SECURITY_MIRROR:-${MIRROR%/debian}/debian-security} \
    DIB_DEBOOTSTRAP_CACHE=1 DIB_DEBIAN_USE_DEBOOTSTRAP_CACHE=1 \
    DIB_CLOUD_INIT_DATASOURCES="ConfigDrive, OpenStack, NoCloud" \
        disk-image-create -t qcow2 -o "$OUT/solum-git-gitolite" \
        debian-minimal vm cloud-init-datasources solum-git >&2
    ls -l "$OUT/solum-git-gitolite.qcow2" >&2
}

free_port() { "$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

boot() {
    local run=$OUT/boot port qemu_pid start
    rm -rf "$run"
    mkdir -p "$run"
    port=$(free_port)
    "$VENV/bin/python" "$TOP/tools/render_user_data.py" "$run" "$port"
    printf 'instance-id: solum-git-image-test\nlocal-hostname: solum-git\n' >"$run/meta-data"
    cloud-localds "$run/seed.img" "$run/user-data" "$run/meta-data"
    qemu-img create -q -f qcow2 -F qcow2 -b "$OUT/solum-git-gitolite.qcow2" "$run/disk.qcow2"
    # TCG: /dev/kvm hangs guests here. restrict=on: the guest reaches nothing
    # outside qemu; only the forwarded SSH port comes in.
    qemu-system-x86_64 -machine accel=tcg -m 1024 -smp 2 -display none \
        -drive "file=$run/disk.qcow2,if=virtio" -drive "file=$run/seed.img,if=virtio,format=raw" \
        -netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$port-:22" \
        -device virtio-net-pci,netdev=n0 -serial "file:$run/console.log" &
    qemu_pid=$!
    # shellcheck disable=SC2064
    trap "kill $qemu_pid 2>/dev/null; wait $qemu_pid 2>/dev/null || true; trap - RETURN" RETURN
    start=$SECONDS
    export GIT_SSH_COMMAND="ssh -i $run/admin -o IdentitiesOnly=yes -o BatchMode=yes \
-o StrictHostKeyChecking=yes -o UserKnownHostsFile=$run/known_hosts -o ConnectTimeout=30"
    local url=ssh://git@127.0.0.1:$port
    until git ls-remote "$url/gitolite-admin" >/dev/null 2>&1; do
        if [ $((SECONDS - start)) -gt 600 ]; then
            tail -40 "$run/console.log" >&2
            say "FAILED: gitolite did not answer within 600 s"
            return 1
        fi
        sleep 3
    done
    say "gitolite answered (host key pinned) $((SECONDS - start)) s after qemu started"
    # a real push: add a repo through gitolite-admin, then push a commit to it
    git clone -q "$url/gitolite-admin" "$run/admin-repo"
    (cd "$run/admin-repo" && printf '\nrepo demo\n    RW+ = solum-git\n' >>conf/gitolite.conf \
        && git -c user.name=t -c user.email=t@e commit -qam 'add demo' && git push -q origin HEAD)
    git init -q -b main "$run/demo"
    (cd "$run/demo" && echo hello >README && git add README \
        && git -c user.name=t -c user.email=t@e commit -qm first \
        && git push "$url/demo" main 2>&1) >&2
    [ "$(git ls-remote "$url/demo" refs/heads/main | cut -f1)" = \
      "$(git -C "$run/demo" rev-parse HEAD)" ] || { say "FAILED: push not on the server"; return 1; }
    say "push to the QCOW2 server done $((SECONDS - start)) s after qemu started"
}

case "${1:-}" in
    base|container|qcow2|boot) timed "$1" ;;
    all) timed base; timed container; timed qcow2; timed boot ;;
    *) sed -n '2,16p' "$0"; exit 2 ;;
esac
