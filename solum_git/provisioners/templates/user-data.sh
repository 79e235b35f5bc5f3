#!/bin/bash
# First boot of a solum-git tenant git server (Heat user_data, run by cloud-init
# as root). Values in %...% are filled in by the template's str_replace.
set -euo pipefail
umask 077

settings=/etc/solum-git
bootstrap=/usr/local/sbin/solum-git-bootstrap
mkdir -p "$settings"
chmod 700 "$settings"

printf '%s\n' '%admin_public_key%' > "$settings/admin.pub"
printf '%s' '%host_private_key%' | base64 -d > "$settings/ssh_host_key"
printf '%s\n' '%host_public_key%' > "$settings/ssh_host_key.pub"
printf '%s' '%hook_secret%' > "$settings/hook_secret"

# repositories on the Cinder volume when the stack has one (it outlives the server)
volume_id='%volume_id%'
if [ -n "$volume_id" ]; then
    disk=/dev/disk/by-id/virtio-${volume_id:0:20}
    for _ in $(seq 120); do [ -e "$disk" ] && break; sleep 1; done
    blkid "$disk" >/dev/null 2>&1 || mkfs.ext4 -q -L solum-git "$disk"
    mkdir -p /srv/solum-git
    grep -q ' /srv/solum-git ' /etc/fstab || \
        echo "LABEL=solum-git /srv/solum-git ext4 defaults,nofail 0 2" >> /etc/fstab
    mountpoint -q /srv/solum-git || mount /srv/solum-git
    home_args=(--home /srv/solum-git/home)
else
    home_args=()
fi

script='%bootstrap_script%'
if [ -n "$script" ]; then
    printf '%s' "$script" | base64 -d > "$bootstrap.new"
    chmod 755 "$bootstrap.new"
    mv "$bootstrap.new" "$bootstrap"
fi

exec "$bootstrap" \
    --user '%git_user%' "${home_args[@]}" \
    --listen '%ssh_listen_address%' --port '%ssh_port%' \
    --admin-key "$settings/admin.pub" \
    --host-key "$settings/ssh_host_key" \
    --callback-url '%callback_url%' \
    --stack-id '%stack_id%' \
    --secret-file "$settings/hook_secret" \
    --service systemd
