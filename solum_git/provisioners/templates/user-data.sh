#!/bin/bash
# First boot of a solum-git tenant git server (Heat user_data, run as root by
# cloud-init). Values in %...% are filled in by the template's str_replace.
set -euo pipefail
umask 077

settings=/etc/solum-git
bootstrap=/usr/local/sbin/solum-git-bootstrap
hook=/usr/local/lib/solum-git/solum-git-hook
http=/usr/local/lib/solum-git/solum-git-http
server=/usr/local/lib/solum-git/solum-git-server
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

# this solum-git's own bootstrap, hook, HTTP front and server programs, when it
# sends them (a base64 tar.xz, unpacked by python3's lzma; else the image's)
programs='%programs%'
if [ -n "$programs" ]; then
    new=$(mktemp -d)
    printf '%s' "$programs" | base64 -d \
        | python3 -c 'import lzma, sys; sys.stdout.buffer.write(lzma.decompress(sys.stdin.buffer.read()))' \
        | tar -x -C "$new" --no-same-owner
    for pair in "solum-git-bootstrap:$bootstrap" "solum-git-hook:$hook" \
                "solum-git-http:$http" "solum-git-server:$server"; do
        install -m 755 "$new/${pair%%:*}" "${pair#*:}"
    done
    rm -rf "$new"
fi

# repositories on the Cinder volume when the stack has one (it outlives the server)
home_args=()
git_home=
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
    git_home=/srv/solum-git/home
fi

"$bootstrap" --phase all --install-packages \
    --git-user '%git_user%' "${home_args[@]}" \
    --admin-key "$settings/admin.pub" \
    --callback-url '%callback_url%' --stack-id '%stack_id%' \
    --hook-secret-file "$settings/hook_secret" --hook-program "$hook" \
    --http-program "$http" --server-programs "$server" \
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

# the smart HTTPS front, as the git user (the certificate comes with the first
# gitolite-admin push; it answers TLS from then on)
git_home=${git_home:-$(getent passwd '%git_user%' | cut -d: -f6)}
front=(/usr/bin/python3 "$git_home/.solum-git/bin/solum-git-http" serve --tls
       --home "$git_home" --listen 0.0.0.0 --port '%http_port%'
       --pidfile /run/solum-git-http/http.pid --log /var/log/solum-git-http.log)
install -d -o '%git_user%' -m 700 /run/solum-git-http
install -o '%git_user%' -m 600 /dev/null /var/log/solum-git-http.log
if [ -d /run/systemd/system ]; then
    cat > /etc/systemd/system/solum-git-http.service <<UNIT
[Unit]
Description=solum-git smart HTTPS git front
After=network-online.target
[Service]
User=%git_user%
AmbientCapabilities=CAP_NET_BIND_SERVICE
RuntimeDirectory=solum-git-http
ExecStart=${front[*]} --foreground
Restart=always
[Install]
WantedBy=multi-user.target
UNIT
    systemctl daemon-reload
    systemctl enable --now solum-git-http
else
    setpriv --reuid='%git_user%' --regid='%git_user%' --init-groups \
        --inh-caps=+net_bind_service --ambient-caps=+net_bind_service -- "${front[@]}"
fi
echo "solum-git: first boot done"
