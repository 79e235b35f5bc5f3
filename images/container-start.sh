#!/bin/bash
# Start of the solum-git container: this tenant's settings from the environment
# (set by the Heat container template), the same bootstrap as a VM's first
# boot, then sshd in the foreground as the container's main process.
#   SOLUM_GIT_ADMIN_KEY, SOLUM_GIT_HOST_KEY (base64 OpenSSH private key),
#   SOLUM_GIT_HOST_PUBLIC_KEY, SOLUM_GIT_HOOK_SECRET, SOLUM_GIT_CALLBACK_URL,
#   SOLUM_GIT_STACK_ID, SOLUM_GIT_SSH_PORT (22), SOLUM_GIT_SSH_LISTEN,
#   SOLUM_GIT_USER (git), SOLUM_GIT_HOME (empty: the user's home),
#   SOLUM_GIT_HTTP_PORT (443: the smart HTTPS front)
set -euo pipefail
umask 077
: "${SOLUM_GIT_ADMIN_KEY:?}" "${SOLUM_GIT_HOST_KEY:?}" "${SOLUM_GIT_HOOK_SECRET:?}"

settings=/etc/solum-git
mkdir -p "$settings"
printf '%s\n' "$SOLUM_GIT_ADMIN_KEY" > "$settings/admin.pub"
printf '%s' "$SOLUM_GIT_HOOK_SECRET" > "$settings/hook_secret"
printf '%s' "$SOLUM_GIT_HOST_KEY" | base64 -d > /etc/ssh/ssh_host_ed25519_key
printf '%s\n' "${SOLUM_GIT_HOST_PUBLIC_KEY:-}" > /etc/ssh/ssh_host_ed25519_key.pub
chmod 600 /etc/ssh/ssh_host_ed25519_key

args=(--phase configure --git-user "${SOLUM_GIT_USER:-git}"
      --admin-key "$settings/admin.pub" --hook-secret-file "$settings/hook_secret"
      --hook-program /usr/local/lib/solum-git/solum-git-hook
      --server-programs /usr/local/lib/solum-git/solum-git-server
      --ssh-port "${SOLUM_GIT_SSH_PORT:-22}" --sshd system)
[ -z "${SOLUM_GIT_HOME:-}" ] || args+=(--git-home "$SOLUM_GIT_HOME")
[ -z "${SOLUM_GIT_SSH_LISTEN:-}" ] || args+=(--ssh-listen "$SOLUM_GIT_SSH_LISTEN")
[ -z "${SOLUM_GIT_CALLBACK_URL:-}" ] || args+=(--callback-url "$SOLUM_GIT_CALLBACK_URL")
[ -z "${SOLUM_GIT_STACK_ID:-}" ] || args+=(--stack-id "$SOLUM_GIT_STACK_ID")
# the settings stay in files only the git user and root can read
unset SOLUM_GIT_HOST_KEY SOLUM_GIT_HOOK_SECRET
/usr/local/sbin/solum-git-bootstrap "${args[@]}"
# the smart HTTPS front as the git user, if the image has it
http=/usr/local/lib/solum-git/solum-git-http
git_user=${SOLUM_GIT_USER:-git}
git_home=${SOLUM_GIT_HOME:-$(getent passwd "$git_user" | cut -d: -f6)}
if [ -f "$http" ]; then
    install -d -o "$git_user" -m 700 /run/solum-git-http
    setpriv --reuid="$git_user" --regid="$git_user" --init-groups \
        --inh-caps=+net_bind_service --ambient-caps=+net_bind_service -- \
        /usr/bin/python3 "$http" serve --tls --home "$git_home" --listen 0.0.0.0 \
        --port "${SOLUM_GIT_HTTP_PORT:-443}" --pidfile /run/solum-git-http/http.pid \
        --log /run/solum-git-http/http.log
fi
echo "solum-git: container ready"
exec /usr/sbin/sshd -D -e
