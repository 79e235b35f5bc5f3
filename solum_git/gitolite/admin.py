"""gitolite-admin over SSH: solum-git's only write path to a tenant git server.

One ``AdminClient`` per stack and engine pass. It keeps a clone of the
server's gitolite-admin in a work directory, writes the rendered conf and
keydir into it, commits only when something changed and pushes with GitPython;
the server's host key is pinned (``StrictHostKeyChecking=yes`` against the
stack's ``ssh_host_keys``). Maintenance goes through the admin-only gitolite
command ``solum-sync`` that the bootstrap installs.
"""
import os
import shlex
import shutil
import subprocess

from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives import serialization
import git

from solum_git.gitolite import render
from solum_git.gitolite import ssh

BRANCH = 'master'
COMMAND_TIMEOUT = 120
# names per "solum-sync rm": keeps the command line well under sshd's limits
RM_BATCH = 200


class AdminError(Exception):
    """The server refused or failed an admin operation; the text says why."""


def generate_key():
    """A new ed25519 admin key as OpenSSH private key text."""
    key = ed25519.Ed25519PrivateKey.generate()
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.OpenSSH,
                             serialization.NoEncryption()).decode()


def public_key(private_text):
    """``ssh-ed25519 AAAA...`` for an OpenSSH private key text."""
    key = serialization.load_ssh_private_key(private_text.encode(), password=None)
    return key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                         serialization.PublicFormat.OpenSSH).decode()


def known_hosts_line(host, port, key_line):
    """One known_hosts line for ``host:port`` (OpenSSH's ``[host]:port`` form)."""
    key = ' '.join(key_line.split()[:2])
    if port in (None, 22):
        return '%s %s' % (host, key)
    return '[%s]:%d %s' % (host, port, key)


class Check:
    """What ``solum-sync check`` reported."""

    def __init__(self, output):
        self.head = None
        self.state = ''
        self.fixed = ''
        self.repos = set()
        self.heads = {}           # repo name -> the ref its HEAD names
        for line in output.splitlines():
            word, _, rest = line.partition(' ')
            if word == 'head':
                self.head = rest.strip()
            elif word == 'state':
                self.state = rest.strip()
            elif word.startswith('fixed:'):
                self.fixed = line.strip()
            elif word == 'repo' and rest.strip():
                name, _, head = rest.strip().partition(' ')
                self.repos.add(name)
                self.heads[name] = head.strip()

    @property
    def clean(self):
        return self.state == 'clean'


class Result:
    def __init__(self, pushed, removed, output=''):
        self.pushed = pushed
        self.removed = removed
        self.output = output


class AdminClient:
    def __init__(self, workdir, host, port, user, private_key, host_keys,
                 connect_timeout=10, mux=None):
        self.workdir = workdir
        self.host = host
        self.port = port or 22
        self.user = user
        self.clone_dir = os.path.join(workdir, 'gitolite-admin')
        self.key_path = os.path.join(workdir, 'id_ed25519')
        self.known_hosts = os.path.join(workdir, 'known_hosts')
        self.connect_timeout = connect_timeout
        self.mux = mux
        self._socket = None
        self._write_private(private_key, host_keys)

    # -- files ---------------------------------------------------------------
    def _write_private(self, private_key, host_keys):
        os.makedirs(self.workdir, mode=0o700, exist_ok=True)
        _write_if_changed(self.key_path, private_key if private_key.endswith('\n')
                          else private_key + '\n', 0o600)
        text = ''.join(line.strip() + '\n' for line in host_keys if line.strip())
        if not text:
            raise AdminError('the server has no pinned host key yet')
        _write_if_changed(self.known_hosts, text, 0o600)

    @property
    def url(self):
        host = '[%s]' % self.host if ':' in self.host else self.host
        return 'ssh://%s@%s:%d/%s' % (self.user, host, self.port, render.ADMIN_REPO)

    def ssh_argv(self, mux=True):
        """ssh with the admin key and the pinned host key; through the master if any."""
        if mux and self.mux is not None:
            try:
                self._socket = self.mux.ensure(self)
            except ssh.ConnectError as e:
                raise AdminError(str(e))
            extra = ['-o', 'ControlMaster=no', '-o', 'ControlPath=%s' % self._socket]
        else:
            extra = []
        return ['ssh', '-F', '/dev/null', '-i', self.key_path] + extra + [
                '-o', 'IdentitiesOnly=yes', '-o', 'IdentityAgent=none',
                '-o', 'UserKnownHostsFile=%s' % self.known_hosts,
                '-o', 'GlobalKnownHostsFile=/dev/null',
                '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes',
                '-o', 'ConnectTimeout=%d' % self.connect_timeout,
                '-o', 'ServerAliveInterval=15', '-o', 'LogLevel=ERROR']

    def env(self):
        env = dict(os.environ)
        env.update({
            'GIT_SSH_COMMAND': ' '.join(shlex.quote(a) for a in self.ssh_argv()),
            # the service user's own git and ssh settings must not leak in
            'GIT_CONFIG_GLOBAL': '/dev/null', 'GIT_CONFIG_NOSYSTEM': '1',
            'GIT_TERMINAL_PROMPT': '0',
            'GIT_AUTHOR_NAME': 'solum-git', 'GIT_AUTHOR_EMAIL': 'solum-git@localhost',
            'GIT_COMMITTER_NAME': 'solum-git',
            'GIT_COMMITTER_EMAIL': 'solum-git@localhost',
        })
        return env

    # -- gitolite-admin --------------------------------------------------------
    def _repo(self):
        if os.path.isdir(os.path.join(self.clone_dir, '.git')):
            try:
                return git.Repo(self.clone_dir)
            except git.GitError:
                pass
        shutil.rmtree(self.clone_dir, ignore_errors=True)
        try:
            return git.Repo.clone_from(self.url, self.clone_dir, env=self.env(),
                                       branch=BRANCH)
        except git.GitCommandError as e:
            shutil.rmtree(self.clone_dir, ignore_errors=True)
            raise AdminError('cannot clone gitolite-admin: %s' % _stderr(e))

    def _fetch(self, repo):
        try:
            repo.git.fetch('--quiet', 'origin',
                           '+refs/heads/%s:refs/remotes/origin/%s' % (BRANCH, BRANCH),
                           env=self.env())
        except git.GitCommandError as e:
            raise AdminError('cannot fetch gitolite-admin: %s' % _stderr(e))

    def apply(self, rendered, message, fetch=False):
        """Make the server's gitolite-admin equal ``rendered``: one push at most.

        Without ``fetch`` the clone's view of the server is trusted (we are the
        only writer); a rejected push fetches and tries once more.
        """
        repo = self._repo()
        if fetch:
            self._fetch(repo)
        for attempt in (1, 2):
            old_conf = self._reset_and_write(repo, rendered)
            if not repo.git.status('--porcelain'):
                return Result(False, [])
            repo.git.commit('--quiet', '--no-verify', '-m', message, env=self.env())
            try:
                _status, _out, err = repo.git.push(
                    'origin', 'HEAD:refs/heads/%s' % BRANCH, env=self.env(),
                    with_extended_output=True)
            except git.GitCommandError as e:
                if attempt == 1 and 'rejected' in _stderr(e):
                    self._fetch(repo)
                    continue
                raise AdminError('gitolite-admin push failed: %s' % _stderr(e))
            _check_push_output(err)
            removed = sorted(render.conf_repos(old_conf) - set(rendered.repos))
            return Result(True, removed, err)
        raise AdminError('gitolite-admin push rejected twice')

    def _reset_and_write(self, repo, rendered):
        # conf and keydir are written whole below: no clean needed
        repo.git.reset('--quiet', '--hard', 'origin/%s' % BRANCH)
        conf_path = os.path.join(self.clone_dir, 'conf', 'gitolite.conf')
        try:
            with open(conf_path) as f:
                old_conf = f.read()
        except FileNotFoundError:
            old_conf = ''
        os.makedirs(os.path.dirname(conf_path), exist_ok=True)
        with open(conf_path, 'w') as f:
            f.write(rendered.conf)
        keydir = os.path.join(self.clone_dir, 'keydir')
        shutil.rmtree(keydir, ignore_errors=True)
        for rel, text in rendered.keydir.items():
            path = os.path.join(keydir, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, 'w') as f:
                f.write(text)
        repo.git.add('--all', '--', 'conf', 'keydir')
        return old_conf

    # -- gitolite commands -----------------------------------------------------
    def command(self, *args, timeout=COMMAND_TIMEOUT):
        """Run an admin-only gitolite command on the server; its stdout."""
        argv = self.ssh_argv() + ['-p', str(self.port), '%s@%s' % (self.user, self.host)]
        argv += list(args)
        try:
            proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                                  text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AdminError('%s: no answer in %ss' % (args[0], timeout))
        if proc.returncode != 0:
            raise AdminError('%s failed (%s): %s' % (' '.join(args[:2]), proc.returncode,
                                                     _last_lines(proc.stderr)))
        return proc.stdout

    def remove_repos(self, names):
        out = []
        names = sorted(names)
        for i in range(0, len(names), RM_BATCH):
            out.append(self.command('solum-sync', 'rm', *names[i:i + RM_BATCH]))
        return ''.join(out)

    def check(self, fix=True):
        """The server's view in one round trip: admin head, drift (fixed), repos."""
        args = ['solum-sync', 'check'] + (['--fix'] if fix else [])
        return Check(self.command(*args))

    def create_repos(self, repos):
        """Make new repos on the server before the push that names them.

        ``repos``: (name, default branch, uuid); a repo of that name left by
        a deleted one (another uuid) is replaced.
        """
        repos = sorted(repos)
        out = []
        for i in range(0, len(repos), RM_BATCH // 3):
            args = [part for triple in repos[i:i + RM_BATCH // 3] for part in triple]
            out.append(self.command('solum-sync', 'create', *args))
        return ''.join(out)

    def set_heads(self, branches):
        """Point each repo's HEAD at its branch ({name: branch})."""
        pairs = sorted(branches.items())
        for i in range(0, len(pairs), RM_BATCH // 2):
            args = [part for pair in pairs[i:i + RM_BATCH // 2] for part in pair]
            self.command('solum-sync', 'head', *args)

    def local_head(self):
        """The server's gitolite-admin head as this clone last saw it (or None)."""
        if not os.path.isdir(os.path.join(self.clone_dir, '.git')):
            return None
        try:
            return git.Repo(self.clone_dir).git.rev_parse(
                '--verify', '-q', 'refs/remotes/origin/%s' % BRANCH)
        except git.GitError:
            return None

    def flush(self):
        """Ask the server's hook to deliver its spooled push events now."""
        return self.command('solum-flush')


def _write_if_changed(path, text, mode):
    try:
        with open(path) as f:
            if f.read() == text:
                return
    except FileNotFoundError:
        pass
    tmp = path + '.tmp'
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, 'w') as f:
        f.write(text)
    os.replace(tmp, path)


def _stderr(error):
    return _last_lines(getattr(error, 'stderr', '') or str(error))


def _last_lines(text, n=6):
    lines = [line.strip() for line in (text or '').strip().splitlines() if line.strip()]
    return ' | '.join(lines[-n:])


def _check_push_output(err):
    """gitolite reports compile failures on a push that git calls a success."""
    bad = [line for line in (err or '').splitlines()
           if 'FATAL' in line or 'ERROR' in line]
    if bad:
        raise AdminError('gitolite rejected the config: %s' % ' | '.join(bad[:6]))
