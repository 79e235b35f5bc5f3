"""Where a run gets the pushed code: a local path, or the stack's server over SSH."""
import os
import shlex
import shutil
import tempfile

from solum_git.pipelines import process

_KEY_TYPES = ('ssh-ed25519', 'ssh-rsa', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384',
              'ecdsa-sha2-nistp521')


class FetchError(Exception):
    pass


def known_hosts(host, port, lines):
    """known_hosts lines for ``[host]:port`` from any lines that carry the keys."""
    pattern = host if port in (None, 22) else '[%s]:%d' % (host, port)
    out = []
    for line in lines:
        fields = line.split()
        for i, field in enumerate(fields[:-1]):
            if field in _KEY_TYPES:
                out.append('%s %s %s' % (pattern, field, fields[i + 1]))
                break
    return out


class Ssh:
    """ssh to one stack as solum-git's admin: its key, its pinned host keys."""

    def __init__(self, host, port, user, private_key, host_key_lines):
        self.host = host
        self.port = port or 22
        self.user = user
        self.dir = tempfile.mkdtemp(prefix='solum-git-ssh-')
        self.key = os.path.join(self.dir, 'id')
        fd = os.open(self.key, os.O_WRONLY | os.O_CREAT, 0o600)
        with os.fdopen(fd, 'w') as f:
            f.write(private_key.strip() + '\n')
        self.known_hosts = os.path.join(self.dir, 'known_hosts')
        with open(self.known_hosts, 'w') as f:
            f.write('\n'.join(known_hosts(host, self.port, host_key_lines)) + '\n')

    def argv(self):
        return ['ssh', '-i', self.key, '-o', 'IdentitiesOnly=yes',
                '-o', 'UserKnownHostsFile=%s' % self.known_hosts,
                '-o', 'GlobalKnownHostsFile=/dev/null',
                '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes',
                '-o', 'ConnectTimeout=10', '-o', 'LogLevel=ERROR',
                '-p', str(self.port)]

    def command(self, *args):
        return self.argv() + ['%s@%s' % (self.user, self.host)] + list(args)

    def repo_url(self, repo_name):
        host = '[%s]' % self.host if ':' in self.host else self.host
        return 'ssh://%s@%s:%d/%s' % (self.user, host, self.port, repo_name)

    def env(self):
        return {'GIT_SSH_COMMAND': shlex.join(self.argv()), 'GIT_SSH_VARIANT': 'ssh'}

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class Source:
    """A git URL (path or ssh://) and the environment git needs to read it."""

    def __init__(self, url, env=None, ssh=None):
        self.url = url
        self.env = dict(env or {})
        self.ssh = ssh

    def git_env(self):
        return process.clean_env(dict(self.env, GIT_TERMINAL_PROMPT='0'))

    def _git(self, args, log, timeout, stopping):
        return process.run(['git'] + args, None, self.git_env(), log, timeout, stopping)

    def fetch(self, git_dir, ref, commit, log, timeout, stopping):
        """Bring ``commit`` into ``git_dir`` (by id, else through its ref)."""
        quiet = ['-c', 'advice.detachedHead=false', '-C', git_dir]
        if self._git(quiet + ['fetch', '-q', '--no-tags', self.url, commit], log,
                     timeout, stopping) == 0:
            return
        # servers speaking protocol v0 refuse unadvertised ids: take the ref
        if self._git(quiet + ['fetch', '-q', '--no-tags', self.url,
                              '+%s:refs/solum-git/pushed' % ref],
                     log, timeout, stopping) != 0:
            raise FetchError('cannot fetch %s from the git server' % ref)
        if self._git(quiet + ['cat-file', '-e', commit + '^{commit}'], log, timeout,
                     stopping) != 0:
            raise FetchError('commit %s is no longer on %s (force-pushed?)'
                             % (commit[:12], ref))

    def checkout(self, dest, ref, commit, log, timeout, stopping):
        os.makedirs(dest, exist_ok=True)
        if self._git(['init', '-q', dest], log, timeout, stopping) != 0:
            raise FetchError('git init failed in %s' % dest)
        self.fetch(dest, ref, commit, log, timeout, stopping)
        if self._git(['-c', 'advice.detachedHead=false', '-C', dest, 'checkout', '-q',
                      '--detach', commit], log, timeout, stopping) != 0:
            raise FetchError('cannot check out %s' % commit[:12])

    def close(self):
        if self.ssh is not None:
            self.ssh.close()
