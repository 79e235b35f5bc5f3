#!/bin/bash
# First boot of a solum-git tenant git server (Heat user_data, run as root by
# cloud-init). Values in %...% are filled in by the template's str_replace.
set -euo pipefail
umask 077

settings=/etc/solum-git
bootstrap=/usr/local/sbin/solum-git-bootstrap
hook=/usr/local/lib/solum-git/solum-git-hook
mkdir -p "$settings" /usr/local/lib/solum-git
chmod 700 "$settings"

printf '%s\n' '%admin_public_key%' > "$settings/admin.pub"
printf '%s' '%hook_secret%' > "$settings/hook_secret"
# the host key solum-git made for this server: clients pin it, so it must be
# in place before sshd answers (ssh-keygen -A then only adds other types)
printf '%s' '%host_private_key%' | base64 -d > /etc/ssh/ssh_host_ed25519_key
printf '%s\n' '%host_public_key%' > /etc/ssh/ssh_host_ed25519_key.pub
chmod 600 /etc/ssh/ssh_host_ed25519_key
chmod 644 /etc/ssh/ssh_host_ed25519_key.pub

# this solum-git's own bootstrap and hook, when it sends them (else the image's)
install_b64() {
    [ -n "$2" ] || return 0
    printf '%s' "$2" | base64 -d > "$1.new"
    chmod 755 "$1.new"
    mv -f "$1.new" "$1"
}
install_b64 "$bootstrap" '%bootstrap_script%'
install_b64 "$hook" '%hook_program%'

# repositories on the Cinder volume when the stack has one (it outlives the server)
home_args=()
volume_id='%volume_id%'
if [ -n "$volume_id" ]; then
    disk=/dev/disk/by-id/virtio-${volume_id:0:20}
    for _ in $(seq 120); do [ -e "$disk" ] && break; sleep 1; done
    blkid "$disk" >/dev/null 2>&1 || mkfs.ext4 -q -L solum-git "$disk"
    mkdir -p /srv/solum-git
    grep -q ' /srv/solum-git ' /etc/fstab || \
        echo "LABEL=solum-git /srv/solum-git ext4 defaults,nofail 0 2" >> /etc/fstab
    mountpoint -q /srv/solum-git || mount /srv/solum-git
    home_args=(--git-home /srv/solum-git/home)
fi

"$bootstrap" --phase all --install-packages \
    --git-user '%git_user%' "${home_args[@]}" \
    --admin-key "$settings/admin.pub" \
    --callback-url '%callback_url%' --stack-id '%stack_id%' \
    --hook-secret-file "$settings/hook_secret" --hook-program "$hook" \
    --ssh-listen '%ssh_listen_address%' --ssh-port '%ssh_port%' --sshd system

# sshd answers with the new key and port only after a restart
if [ -d /run/systemd/system ]; then
    systemctl enable ssh
    systemctl restart ssh
else
    mkdir -p /run/sshd
    if [ -f /run/sshd.pid ]; then kill "$(cat /run/sshd.pid)" 2>/dev/null || true; fi
    /usr/sbin/sshd
fi
echo "solum-git: first boot done"
