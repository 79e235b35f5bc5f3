"""--add-remote: a `solum` remote in a work tree, and the server's host keys pinned."""
import os
import pwd
import re
import shlex
import subprocess

from solum_git.cli import client as client_mod
from solum_git.common import known_hosts
from solum_git.common import urls

REMOTE = 'solum'


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
    return known_hosts.host_field(*_host_port(git_url))


def _host_port(git_url):
    try:
        return urls.ssh_host_port(git_url)
    except ValueError as e:
        raise client_mod.ApiError('git_url: %s' % e)


def known_hosts_path():
    """$HOME's known_hosts: where the user keeps them (ssh itself may read another)."""
    return os.path.join(os.path.expanduser('~'), '.ssh', 'known_hosts')


def pin_host_keys(git_url, ssh_host_keys, path=None):
    """Write the keys into known_hosts, replacing older plain lines for the host.

    The file keeps its owner and mode (``sudo -E`` runs this as root on the
    user's own file). Returns the number of keys written.
    """
    host, port = _host_port(git_url)
    pattern = known_hosts.host_field(host, port)
    # the host field is ours: it must match the git_url the client uses
    new = known_hosts.lines(host, port, ssh_host_keys)
    if not new:
        return 0
    path = path or known_hosts_path()
    owner = _owner(path)
    ssh_dir = os.path.dirname(path)
    if not os.path.isdir(ssh_dir):
        os.makedirs(ssh_dir, mode=0o700)
        _chown(ssh_dir, owner)
    try:
        with open(path) as f:
            kept = [line.rstrip('\n') for line in f if not _is_plain_line_for(line, pattern)]
        mode = os.stat(path).st_mode & 0o777
    except FileNotFoundError:
        kept, mode = [], 0o600
    tmp = path + '.solum-git.tmp'
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as f:
        f.write('\n'.join(kept + new) + '\n')
    os.chmod(tmp, mode)
    _chown(tmp, owner)
    os.replace(tmp, path)
    return len(new)


def _owner(path):
    """(uid, gid) the file has, else its directory's, else the home it is in."""
    for candidate in (path, os.path.dirname(path), os.path.dirname(os.path.dirname(path))):
        try:
            st = os.stat(candidate)
            return st.st_uid, st.st_gid
        except FileNotFoundError:
            continue
    return None


def _chown(path, owner):
    if owner and os.geteuid() == 0 and owner != (os.getuid(), os.getgid()):
        os.chown(path, *owner)


# ssh finds ~/.ssh/known_hosts in the password database's home, not $HOME: with
# sudo -E, or any HOME of one's own, it would not read the keys pinned under $HOME
SSH_COMMAND = "ssh -o %s"
_DEFAULT_KNOWN_HOSTS = '~/.ssh/known_hosts ~/.ssh/known_hosts2'
# what ssh_command_for writes (an earlier --add-remote's may name another file)
_OURS = re.compile(r"""^ssh -o 'UserKnownHostsFile="[^"']*" ~/\.ssh/known_hosts """
                   r"""~/\.ssh/known_hosts2'$""")


def ssh_reads(path):
    """True if ssh, run as this user, reads ``path`` as its known_hosts anyway."""
    home = pwd.getpwuid(os.geteuid()).pw_dir
    return os.path.realpath(path) == os.path.realpath(
        os.path.join(home, '.ssh', 'known_hosts'))


def ssh_command_for(known_hosts):
    """core.sshCommand: ssh's own files, with ``known_hosts`` first (git runs it in sh)."""
    if '"' in known_hosts or '\n' in known_hosts:
        raise client_mod.ApiError('%s: cannot name this path to ssh' % known_hosts)
    return SSH_COMMAND % shlex.quote('UserKnownHostsFile="%s" %s'
                                     % (known_hosts, _DEFAULT_KNOWN_HOSTS))


def use_known_hosts(work_tree, known_hosts):
    """Make git in ``work_tree`` run ssh with ``known_hosts``; what was done, in words.

    A core.sshCommand of the user's own is left alone (it may pick a key or a
    wrapper): the answer says what to add to it instead.
    """
    wanted = ssh_command_for(known_hosts)
    current = _git(work_tree, 'config', '--get', 'core.sshCommand').stdout.strip()
    if current and not _OURS.match(current):
        return ('warning: core.sshCommand is already set (%s): add -o UserKnownHostsFile=%s '
                'to it, or git push will not find the host keys' % (current, known_hosts))
    if current != wanted:
        result = _git(work_tree, 'config', '--local', 'core.sshCommand', wanted)
        if result.returncode != 0:
            raise client_mod.ApiError('git config core.sshCommand: %s' % (
                (result.stderr.strip().splitlines() or ['failed'])[0]))
    return ('git in %s reads them there (core.sshCommand): ssh would look in %s'
            % (work_tree, pwd.getpwuid(os.geteuid()).pw_dir + '/.ssh'))


def _is_plain_line_for(line, pattern):
    """A plain line for exactly this host (no other names): ours to replace."""
    fields = line.split()
    return bool(fields) and fields[0] == pattern
