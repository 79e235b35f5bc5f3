"""--add-remote: a `solum` remote in a work tree, and the server's host keys pinned."""
import os
import subprocess
import urllib.parse

from solum_git.cli import client as client_mod

REMOTE = 'solum'
KEY_TYPE_PREFIXES = ('ssh-', 'ecdsa-', 'sk-')


def _git(work_tree, *args):
    try:
        return subprocess.run(['git', '-C', work_tree] + list(args), check=False,
                              capture_output=True, text=True)
    except FileNotFoundError:
        raise client_mod.ApiError('git: command not found (install git)')


def check_work_tree(work_tree):
    """Fail before anything is created if DIR cannot take a remote."""
    if not os.path.isdir(work_tree):
        raise client_mod.ApiError('%s: no such directory' % work_tree)
    result = _git(work_tree, 'rev-parse', '--git-dir')
    if result.returncode != 0:
        raise client_mod.ApiError('%s: not a git work tree (run "git init" there '
                                  'first)' % work_tree)


def add_remote(work_tree, git_url):
    """Add (or repoint) the remote; the old URL if it pointed elsewhere."""
    current = _git(work_tree, 'remote', 'get-url', REMOTE)
    old = current.stdout.strip() if current.returncode == 0 else None
    if old == git_url:
        return None
    verb = 'set-url' if old is not None else 'add'
    result = _git(work_tree, 'remote', verb, REMOTE, git_url)
    if result.returncode != 0:
        raise client_mod.ApiError('git remote %s %s: %s' % (
            verb, REMOTE, (result.stderr.strip().splitlines() or ['failed'])[0]))
    return old


def host_pattern(git_url):
    """The name ssh looks the server up by in known_hosts: host or [host]:port."""
    parts = urllib.parse.urlsplit(git_url)
    if parts.scheme != 'ssh' or not parts.hostname:
        raise client_mod.ApiError('git_url: not an ssh:// URL: %s' % git_url)
    host = parts.hostname
    port = parts.port or 22
    return host if port == 22 else '[%s]:%d' % (host, port)


def known_hosts_lines(pattern, ssh_host_keys):
    """Known-hosts lines for ``pattern`` from the stack's keys (type + key only).

    The host field is always ours: it must match the git_url the client uses,
    whatever name the server knows itself by.
    """
    lines = []
    for entry in ssh_host_keys or []:
        fields = entry.split()
        for i, field in enumerate(fields[:-1]):
            if field.startswith(KEY_TYPE_PREFIXES):
                lines.append('%s %s %s' % (pattern, field, fields[i + 1]))
                break
    return lines


def pin_host_keys(git_url, ssh_host_keys, path=None):
    """Write the keys into known_hosts, replacing older plain lines for the host.

    Returns the number of keys written.
    """
    pattern = host_pattern(git_url)
    new = known_hosts_lines(pattern, ssh_host_keys)
    if not new:
        return 0
    path = path or os.path.join(os.path.expanduser('~'), '.ssh', 'known_hosts')
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    try:
        with open(path) as f:
            kept = [line.rstrip('\n') for line in f if not _is_plain_line_for(line, pattern)]
    except FileNotFoundError:
        kept = []
    tmp = path + '.solum-git.tmp'
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as f:
        f.write('\n'.join(kept + new) + '\n')
    os.replace(tmp, path)
    return len(new)


def _is_plain_line_for(line, pattern):
    """A plain line for exactly this host (no other names): ours to replace."""
    fields = line.split()
    return bool(fields) and fields[0] == pattern
