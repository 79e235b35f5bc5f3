#!/bin/sh
# Turn a Debian/Ubuntu host (or a directory and a user on one) into a solum-git
# tenant git server: gitolite3 behind OpenSSH, a trimmed .gitolite.rc, the
# common post-receive shim, solum-git's admin commands and the hook settings.
#
# The same script serves the local provisioner (--sshd own: a private sshd
# config per server, run by the caller), a VM's user_data, a Dockerfile and a
# diskimage-builder element (--sshd system). Re-running it is safe.
#
# Every flag also has an environment variable (in brackets); flags win.
#   --phase all|install|configure   [BOOTSTRAP_PHASE] install: packages + user
#                                   (image build); configure: per-tenant setup
#   --git-user NAME         [GIT_USER]   unix user that owns gitolite (default git;
#                                        an ordinary user may only name itself)
#   --git-home DIR          [GIT_HOME]   gitolite's HOME (default: the user's home)
#   --admin-key KEY|FILE    [ADMIN_KEY]  solum-git's admin public key (line or file)
#   --admin-user NAME       [ADMIN_USER] gitolite name of that key (default solum-git)
#   --callback-url URL      [CALLBACK_URL] where the hook posts push events
#   --stack-id UUID         [STACK_ID]   the solum-git stack this server is
#   --hook-secret-file FILE [HOOK_SECRET] the stack's hook secret (env or file;
#                                        never on the command line)
#   --hook-program FILE     [HOOK_PROGRAM] solum-git-hook to install, if it exists
#   --http-program FILE     [HTTP_PROGRAM] solum-git-http (the smart HTTP front)
#                                        to install, if it exists
#   --server-programs FILE  [SERVER_PROGRAMS] solum-git-server (the zipapp of
#                           solum_git/server: solum-sync, solum-flush, triggers);
#                           default /usr/local/lib/solum-git/solum-git-server
#   --spool-dir DIR         [SPOOL_DIR]  default $GIT_HOME/.solum-git/spool
#   --ssh-listen ADDR       [SSH_LISTEN] default: sshd's own (own mode: 127.0.0.1)
#   --ssh-port PORT         [SSH_PORT]   default 22
#   --sshd system|own       [SSHD_MODE]  system: configure the host's sshd;
#                                        own: write a private sshd config to
#                                        --sshd-dir for the caller to run
#   --sshd-dir DIR          [SSHD_DIR]   own mode (default $GIT_HOME/.solum-git/sshd)
#   --only-sshd-config      rewrite the own-mode sshd config and stop (drift repair)
#   --install-packages      apt-get install what is missing (root only)
#
# Prints "host-key <type> <base64>" lines for the server's host keys at the end.
set -eu

say() { printf 'solum-git-bootstrap: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

PHASE=${BOOTSTRAP_PHASE:-all}
GIT_USER=${GIT_USER:-}
GIT_HOME=${GIT_HOME:-}
ADMIN_KEY=${ADMIN_KEY:-}
ADMIN_USER=${ADMIN_USER:-solum-git}
CALLBACK_URL=${CALLBACK_URL:-}
STACK_ID=${STACK_ID:-}
HOOK_SECRET=${HOOK_SECRET:-}
HOOK_PROGRAM=${HOOK_PROGRAM:-}
HTTP_PROGRAM=${HTTP_PROGRAM:-}
SERVER_PROGRAMS=${SERVER_PROGRAMS:-}
SPOOL_DIR=${SPOOL_DIR:-}
SSH_LISTEN=${SSH_LISTEN:-}
SSH_PORT=${SSH_PORT:-22}
SSHD_MODE=${SSHD_MODE:-system}
SSHD_DIR=${SSHD_DIR:-}
ONLY_SSHD=no
INSTALL_PACKAGES=no

need_arg() { [ $# -ge 2 ] || die "$1 needs a value"; }
while [ $# -gt 0 ]; do
    case "$1" in
        --phase) need_arg "$@"; PHASE=$2; shift ;;
        --git-user) need_arg "$@"; GIT_USER=$2; shift ;;
        --git-home) need_arg "$@"; GIT_HOME=$2; shift ;;
        --admin-key) need_arg "$@"; ADMIN_KEY=$2; shift ;;
        --admin-user) need_arg "$@"; ADMIN_USER=$2; shift ;;
        --callback-url) need_arg "$@"; CALLBACK_URL=$2; shift ;;
        --stack-id) need_arg "$@"; STACK_ID=$2; shift ;;
        --hook-secret-file) need_arg "$@"; HOOK_SECRET=$(cat "$2"); shift ;;
        --hook-program) need_arg "$@"; HOOK_PROGRAM=$2; shift ;;
        --http-program) need_arg "$@"; HTTP_PROGRAM=$2; shift ;;
        --server-programs) need_arg "$@"; SERVER_PROGRAMS=$2; shift ;;
        --spool-dir) need_arg "$@"; SPOOL_DIR=$2; shift ;;
        --ssh-listen) need_arg "$@"; SSH_LISTEN=$2; shift ;;
        --ssh-port) need_arg "$@"; SSH_PORT=$2; shift ;;
        --sshd) need_arg "$@"; SSHD_MODE=$2; shift ;;
        --sshd-dir) need_arg "$@"; SSHD_DIR=$2; shift ;;
        --only-sshd-config) ONLY_SSHD=yes ;;
        --install-packages) INSTALL_PACKAGES=yes ;;
        -h|--help) sed -n '2,/^set -eu/p' "$0" | sed 's/^# \{0,1\}//;/^set -eu/d'; exit 0 ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
    shift
done

# --- checks: everything below ends up in files, commands or sshd_config -----
is_root() { [ "$(id -u)" = 0 ]; }
match() { printf '%s' "$1" | grep -Eq "$2"; }

case "$PHASE" in all|install|configure) ;; *) die "--phase: must be all, install or configure" ;; esac
case "$SSHD_MODE" in system|own) ;; *) die "--sshd: must be system or own" ;; esac
if [ -z "$GIT_USER" ]; then
    if is_root; then GIT_USER=git; else GIT_USER=$(id -un); fi
fi
match "$GIT_USER" '^[a-z_][a-z0-9_-]{0,31}$' || die "--git-user: must be a unix user name"
if ! is_root && [ "$GIT_USER" != "$(id -un)" ]; then
    die "--git-user: an ordinary user can only set up a server as itself ($(id -un))"
fi
match "$ADMIN_USER" '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' || die "--admin-user: bad name"
match "$SSH_PORT" '^[0-9]{1,5}$' || die "--ssh-port: must be 1-65535"
if [ "$SSH_PORT" -lt 1 ] || [ "$SSH_PORT" -gt 65535 ]; then die "--ssh-port: must be 1-65535"; fi
[ -z "$SSH_LISTEN" ] || match "$SSH_LISTEN" '^[0-9A-Za-z.:-]+$' || die "--ssh-listen: bad address"
[ -z "$STACK_ID" ] || match "$STACK_ID" '^[0-9A-Za-z-]{1,64}$' || die "--stack-id: bad id"
safe_path() { match "$2" '^/[A-Za-z0-9._/+-]*$' || die "$1: must be an absolute path of A-Za-z0-9._/+-"; }

# --- install phase: packages and the git user --------------------------------
install_packages() {
    missing=
    command -v gitolite >/dev/null 2>&1 || missing="$missing gitolite3"
    [ -x /usr/sbin/sshd ] || missing="$missing openssh-server"
    command -v git >/dev/null 2>&1 || missing="$missing git"
    command -v python3 >/dev/null 2>&1 || missing="$missing python3"
    [ -n "$missing" ] || return 0
    is_root || die "missing packages:$missing (run as root or install them)"
    say "installing$missing"
    DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
    # gitolite3's debconf would otherwise ask for an admin key and make its own user
    echo "gitolite3 gitolite3/adminkey string" | debconf-set-selections 2>/dev/null || true
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >&2
}

ensure_user() {
    is_root || return 0
    if ! getent passwd "$GIT_USER" >/dev/null; then
        home=${GIT_HOME:-/home/$GIT_USER}
        say "creating user $GIT_USER (home $home)"
        useradd --system --user-group --shell /bin/sh --home-dir "$home" "$GIT_USER"
    fi
    # useradd leaves the account locked ("!"), and sshd with UsePAM no refuses it;
    # only then usermod (it locks /etc/passwd: servers bootstrapping side by side)
    case "$(getent shadow "$GIT_USER" | cut -d: -f2)" in
        '!'*|'') usermod -p '*' "$GIT_USER" ;;
    esac
}

if [ "$INSTALL_PACKAGES" = yes ]; then install_packages; fi
ensure_user
[ "$PHASE" = install ] && exit 0

# --- configure phase ---------------------------------------------------------
command -v gitolite >/dev/null 2>&1 || die "gitolite (Debian package gitolite3) is not installed"
[ -n "$GIT_HOME" ] || GIT_HOME=$(getent passwd "$GIT_USER" | cut -d: -f6)
safe_path --git-home "$GIT_HOME"
[ "$GIT_HOME" != / ] || die "--git-home: must not be /"
SG=$GIT_HOME/.solum-git
[ -n "$SPOOL_DIR" ] || SPOOL_DIR=$SG/spool
safe_path --spool-dir "$SPOOL_DIR"
[ -n "$SSHD_DIR" ] || SSHD_DIR=$SG/sshd
safe_path --sshd-dir "$SSHD_DIR"
GIT_GROUP=$(id -gn "$GIT_USER")

# run a command as the git user with gitolite's HOME. Everything inside the
# home is written this way: root never writes, chmods or chowns a path there,
# where the git user could have planted a symlink.
as_git() {
    if is_root && [ "$GIT_USER" != root ] && command -v setpriv >/dev/null 2>&1; then
        # setpriv: no PAM session, ~4 ms where runuser takes ~15 ms
        setpriv --reuid="$GIT_USER" --regid="$GIT_GROUP" --init-groups -- \
            env -i HOME="$GIT_HOME" USER="$GIT_USER" LOGNAME="$GIT_USER" PATH="$PATH" \
            LANG=C "$@"
    elif is_root && [ "$GIT_USER" != root ]; then
        runuser -u "$GIT_USER" -- env -i HOME="$GIT_HOME" USER="$GIT_USER" \
            LOGNAME="$GIT_USER" PATH="$PATH" LANG=C "$@"
    else
        env HOME="$GIT_HOME" "$@"
    fi
}

# write stdin to a file of the git user's, atomically, with a mode
put() {
    # shellcheck disable=SC2016
    as_git sh -c 'umask 077; t=$2.tmp.$$; cat >"$t" && chmod "$1" "$t" && mv -f "$t" "$2"' \
        put "$1" "$2"
}

# directories of the git user's (parents first); a symlink in their place goes
git_dir() {
    # shellcheck disable=SC2016
    as_git sh -c 'umask 077; for d; do
            if [ -L "$d" ]; then rm -f "$d"; fi
            mkdir -p "$d" && chmod 700 "$d" || exit 1
        done' git_dir "$@"
}

host_key_lines() {
    for pub in "$@"; do
        [ -f "$pub" ] && printf 'host-key %s\n' "$(cut -d' ' -f1,2 "$pub")"
    done
    return 0
}

write_own_sshd() {
    # root's sshd needs this directory for privilege separation
    if is_root; then mkdir -p /run/sshd && chmod 755 /run/sshd; fi
    mkdir -p "$SSHD_DIR"
    chmod 700 "$SSHD_DIR"
    key=$SSHD_DIR/ssh_host_ed25519_key
    # whole or not at all: a key half written by a crash would stop sshd for good
    # (clients pin the .pub only after a bootstrap succeeded)
    if ! ssh-keygen -y -f "$key" >"$key.pub.new" 2>/dev/null; then
        rm -f "$key.new" "$key.new.pub"
        ssh-keygen -q -t ed25519 -N '' -C "solum-git-${STACK_ID:-server}" -f "$key.new"
        mv -f "$key.new.pub" "$key.pub"
        mv -f "$key.new" "$key"
    elif [ ! -f "$key.pub" ]; then
        mv -f "$key.pub.new" "$key.pub"
    fi
    rm -f "$key.pub.new"
    cat >"$SSHD_DIR/sshd_config.tmp" <<EOF
# solum-git: the sshd of one local git server; bootstrap.sh rewrites this file
ListenAddress ${SSH_LISTEN:-127.0.0.1}
Port $SSH_PORT
HostKey $key
PidFile $SSHD_DIR/sshd.pid
AuthorizedKeysFile $GIT_HOME/.ssh/authorized_keys
AllowUsers $GIT_USER
# many servers share one unix user: gitolite finds this server by HOME
SetEnv HOME=$GIT_HOME
# the server may live under a world-writable /tmp; every file here is ours
StrictModes no
UsePAM no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
PermitUserEnvironment no
PermitTTY no
AllowTcpForwarding no
AllowAgentForwarding no
AllowStreamLocalForwarding no
X11Forwarding no
PermitTunnel no
PrintMotd no
UseDNS no
LoginGraceTime 30
MaxStartups 64:30:256
ClientAliveInterval 30
LogLevel INFO
EOF
    /usr/sbin/sshd -t -f "$SSHD_DIR/sshd_config.tmp" || die "sshd rejects the generated config"
    mv -f "$SSHD_DIR/sshd_config.tmp" "$SSHD_DIR/sshd_config"
}

write_system_sshd() {
    is_root || die "--sshd system: needs root (use --sshd own as an ordinary user)"
    ssh-keygen -A >/dev/null
    mkdir -p /run/sshd /etc/ssh/sshd_config.d
    {
        echo "# solum-git: written by bootstrap.sh"
        if [ "$SSH_PORT" != 22 ]; then echo "Port $SSH_PORT"; fi
        if [ -n "$SSH_LISTEN" ]; then echo "ListenAddress $SSH_LISTEN"; fi
        echo "Match User $GIT_USER"
        echo "    PasswordAuthentication no"
        echo "    KbdInteractiveAuthentication no"
        echo "    PermitTTY no"
        echo "    AllowTcpForwarding no"
        echo "    AllowAgentForwarding no"
        echo "    X11Forwarding no"
    } >/etc/ssh/sshd_config.d/50-solum-git.conf
    grep -Eq '^[[:space:]]*Include[[:space:]]+/etc/ssh/sshd_config\.d' /etc/ssh/sshd_config \
        || die "/etc/ssh/sshd_config does not include /etc/ssh/sshd_config.d/*.conf"
    /usr/sbin/sshd -t || die "sshd rejects the configuration"
    # a running sshd picks the change up; a container's CMD starts it later
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active -q ssh 2>/dev/null; then
        systemctl reload ssh
    elif [ -f /run/sshd.pid ] && kill -0 "$(cat /run/sshd.pid)" 2>/dev/null; then
        kill -HUP "$(cat /run/sshd.pid)"
    fi
}

if [ "$ONLY_SSHD" = yes ]; then
    [ "$SSHD_MODE" = own ] || die "--only-sshd-config: only with --sshd own"
    write_own_sshd
    host_key_lines "$SSHD_DIR/ssh_host_ed25519_key.pub"
    exit 0
fi

[ -n "$ADMIN_KEY" ] || die "--admin-key: required"
if [ -z "$SERVER_PROGRAMS" ] && [ -f /usr/local/lib/solum-git/solum-git-server ]; then
    SERVER_PROGRAMS=/usr/local/lib/solum-git/solum-git-server
fi
if [ -n "$SERVER_PROGRAMS" ]; then
    [ -f "$SERVER_PROGRAMS" ] || die "--server-programs: $SERVER_PROGRAMS not found"
elif [ ! -f "$SG/bin/solum-git-server" ]; then
    die "--server-programs: required (solum-git-server: solum-sync and the triggers)"
fi
if [ -f "$ADMIN_KEY" ]; then ADMIN_KEY=$(cat "$ADMIN_KEY"); fi
match "$ADMIN_KEY" '^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa) [A-Za-z0-9+/=]+( [ -~]*)?$' \
    || die "--admin-key: must be one OpenSSH public key line"
ADMIN_KEY=$(printf '%s' "$ADMIN_KEY" | cut -d' ' -f1,2)
[ -z "$HOOK_SECRET" ] || match "$HOOK_SECRET" '^[ -~]{1,512}$' || die "hook secret: must be printable"
[ -z "$CALLBACK_URL" ] || match "$CALLBACK_URL" '^https?://[ -~]+$' || die "--callback-url: must be http(s)"

if is_root && [ "$SSHD_MODE" = own ]; then
    case "$SSHD_DIR/" in
        "$GIT_HOME"/*) die "--sshd-dir: must not be inside the git home (root's sshd trusts it)" ;;
    esac
fi
# the home itself is root's to make (its parent is root's); what is in it is not
[ ! -L "$GIT_HOME" ] || die "--git-home: $GIT_HOME is a symlink"
mkdir -p "$GIT_HOME"
if is_root; then chown "$GIT_USER:$GIT_GROUP" "$GIT_HOME"; fi
chmod 700 "$GIT_HOME"
git_dir "$SG" "$SG/bin" "$SPOOL_DIR" "$GIT_HOME/local" \
    "$GIT_HOME/local/hooks" "$GIT_HOME/local/hooks/common" "$GIT_HOME/local/commands" \
    "$GIT_HOME/local/triggers" "$GIT_HOME/local/triggers/post-compile"

# The rc: only what a solum-git server needs. git-config, daemon and gitweb
# are off (their post-compile triggers walk every repo on every admin push).
put 600 "$SG/gitolite.rc" <<'EOF'
# solum-git: gitolite settings (bootstrap.sh writes this; solum-sync check restores it)
%RC = (
    UMASK                   =>  0077,
    GIT_CONFIG_KEYS         =>  '',
    LOG_EXTRA               =>  1,
    LOCAL_CODE              =>  "$ENV{HOME}/local",
    # solum-authkeys runs gitolite's ssh-authkeys only when keydir changed (it
    # fingerprints every key, ~5 ms each, on every push); solum-stamp then
    # records what the compile produced
    NON_CORE                =>  "
        solum-authkeys  POST_COMPILE  post-compile/solum-authkeys
        solum-stamp     POST_COMPILE  post-compile/solum-stamp
        solum-moved     ACCESS_1      solum-moved
    ",
    ENABLE => [
        'help',
        'info',
        'solum-authkeys',
        'solum-stamp',
        'solum-moved',
        'solum-flush',
        'solum-sync',
        'solum-backup',
    ],
);
1;
EOF
put 600 "$GIT_HOME/.gitolite.rc" <"$SG/gitolite.rc"

# The shim every repo runs after a push. It must never fail the push.
put 700 "$GIT_HOME/local/hooks/common/post-receive" <<'EOF'
#!/bin/sh
# solum-git post-receive shim: hands the ref lines to solum-git-hook, never fails a push
hook="$HOME/.solum-git/bin/solum-git-hook"
if [ ! -f "$hook" ]; then
    cat >/dev/null
    exit 0
fi
python3 "$hook" post-receive --config "$HOME/.solum-git/hook.json" || true
exit 0
EOF

# protected branches, size quota (solum_git/server/guard.py): it may fail a push
put 700 "$GIT_HOME/local/hooks/common/pre-receive" <<'EOF'
#!/bin/sh
p="${GL_ADMIN_BASE:-$HOME/.gitolite}/solum"
[ -f "$p/quota.json" ] || [ -f "$p/branches/$GL_REPO.json" ] || exit 0
exec python3 -I -S "$HOME/.solum-git/bin/solum-git-server" solum-pre-receive
EOF

# solum-git's admin commands and gitolite triggers: the server programs
# (solum_git/server, one zipapp), each behind a two-line shim
[ -z "$SERVER_PROGRAMS" ] || put 600 "$SG/bin/solum-git-server" <"$SERVER_PROGRAMS"
shim() {
    put 700 "$1" <<SHIM
#!/bin/sh
# $2: a solum-git server program (solum_git/server); bootstrap.sh writes this shim
exec python3 -I -S "\$HOME/.solum-git/bin/solum-git-server" $2 "\$@"
SHIM
}
shim "$GIT_HOME/local/commands/solum-sync" solum-sync
shim "$GIT_HOME/local/commands/solum-flush" solum-flush
shim "$GIT_HOME/local/commands/solum-backup" solum-backup
shim "$GIT_HOME/local/triggers/post-compile/solum-authkeys" solum-authkeys
shim "$GIT_HOME/local/triggers/post-compile/solum-stamp" solum-stamp
# solum-moved runs on every git access: python only for a refused one (an old
# name of a renamed repo is never in the conf), so a push pays one sh
put 700 "$GIT_HOME/local/triggers/solum-moved" <<'SHIM'
#!/bin/sh
# solum-moved: the refusal of a renamed repo's old name (solum_git/server/triggers.py)
case "$6" in *DENIED*) ;; *) exit 0 ;; esac
exec python3 -I -S "$HOME/.solum-git/bin/solum-git-server" solum-moved "$@"
SHIM

printf '%s\n' "$ADMIN_USER" | put 600 "$SG/admin-user"

# hook settings, readable by the git user only
CALLBACK_URL="$CALLBACK_URL" STACK_ID="$STACK_ID" HOOK_SECRET="$HOOK_SECRET" \
SPOOL_DIR="$SPOOL_DIR" ADMIN_USER="$ADMIN_USER" python3 -c '
import json, os, sys
keys = {"callback_url": "CALLBACK_URL", "stack_id": "STACK_ID", "secret": "HOOK_SECRET",
        "spool_dir": "SPOOL_DIR", "admin_user": "ADMIN_USER"}
json.dump({k: os.environ.get(v, "") for k, v in keys.items()}, sys.stdout, indent=1)
sys.stdout.write("\n")
' | put 600 "$SG/hook.json"

if [ -n "$HOOK_PROGRAM" ] && [ -f "$HOOK_PROGRAM" ]; then
    put 700 "$SG/bin/solum-git-hook" <"$HOOK_PROGRAM"
elif [ -n "$HOOK_PROGRAM" ]; then
    say "hook program $HOOK_PROGRAM not found; the post-receive shim will do nothing"
fi
if [ -n "$HTTP_PROGRAM" ] && [ -f "$HTTP_PROGRAM" ]; then
    put 700 "$SG/bin/solum-git-http" <"$HTTP_PROGRAM"
fi

# gitolite itself: admin key, admin repo, hooks on every repo (LOCAL_CODE included)
PK_DIR=$SG/setup
git_dir "$PK_DIR"
printf '%s\n' "$ADMIN_KEY" | put 600 "$PK_DIR/$ADMIN_USER.pub"
ADMIN_GIT=$GIT_HOME/repositories/gitolite-admin.git
if [ -d "$ADMIN_GIT" ] && ! as_git git --git-dir="$ADMIN_GIT" rev-parse --verify -q \
        refs/heads/master >/dev/null 2>&1; then
    # a setup cut short (a crash): nothing was ever pushed to it; start again
    say "gitolite-admin is half made; setting gitolite up again"
    as_git rm -rf "$ADMIN_GIT" "$GIT_HOME/.gitolite"
fi
if [ -d "$ADMIN_GIT" ]; then
    # a lock left by a killed git (only solum-git, under its lease, writes here)
    as_git rm -f "$ADMIN_GIT/index.lock"
    # installed already: the conf is what the engine last pushed. Put the admin
    # work tree back first: "gitolite setup" would commit local edits into it.
    as_git git --git-dir="$ADMIN_GIT" --work-tree="$GIT_HOME/.gitolite" \
        checkout -q -f master -- conf/gitolite.conf keydir
    as_git git --git-dir="$ADMIN_GIT" --work-tree="$GIT_HOME/.gitolite" \
        clean -q -f -d -- keydir
    for repo in "$GIT_HOME"/repositories/*.git; do
        [ -d "$repo/hooks" ] || as_git mkdir -p "$repo/hooks"
    done
    # the git user's authorized_keys is gitolite's alone: keep only its section
    AK=$GIT_HOME/.ssh/authorized_keys
    if [ -f "$AK" ]; then
        as_git awk '/^# gitolite start/,/^# gitolite end/' "$AK" | put 600 "$AK"
    fi
    as_git rm -f "$SG/keydir.sum"
    as_git gitolite setup >&2
else
    # gitolite-admin must be on master: not the .gitconfig a first run left
    as_git env GIT_CONFIG_GLOBAL=/dev/null gitolite setup -pk "$PK_DIR/$ADMIN_USER.pub" >&2
fi
as_git rm -rf "$PK_DIR"

# repos made from now on start on main (the API's default branch) and without
# sample hooks; after setup, since gitolite-admin itself must stay on master
git_dir "$SG/git-template" "$SG/git-template/hooks"
put 600 "$GIT_HOME/.gitconfig" <<EOF
[init]
	defaultBranch = main
	templateDir = $SG/git-template
# the HTTP front's pinned views (refs/namespaces/pin-*) show in no other view
# and take no push
[transfer]
	hideRefs = ^refs/namespaces/
EOF

if [ "$SSHD_MODE" = own ]; then
    write_own_sshd
    host_key_lines "$SSHD_DIR/ssh_host_ed25519_key.pub"
else
    write_system_sshd
    host_key_lines /etc/ssh/ssh_host_ed25519_key.pub /etc/ssh/ssh_host_ecdsa_key.pub \
        /etc/ssh/ssh_host_rsa_key.pub
fi
say "git server ready: user $GIT_USER, home $GIT_HOME, admin $ADMIN_USER"
