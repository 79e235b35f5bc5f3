"""gitolite-admin over SSH: solum-git's only write path to a tenant git server.

One ``AdminClient`` per stack and engine pass. It keeps a clone of the
server's gitolite-admin in a work directory, writes the rendered conf and
keydir into it, commits only when something changed and pushes with GitPython;
the server's host key is pinned (``StrictHostKeyChecking=yes`` against the
stack's ``ssh_host_keys``). Maintenance goes through the admin-only gitolite
command ``solum-sync`` that the bootstrap installs.
"""
import os
import re
import shlex
import shutil
import subprocess
from typing import Iterable, List, Mapping, Optional, Sequence, Tuple

from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives import serialization
import git

from solum_git.common import gitssh
from solum_git.common import procs
from solum_git.common import urls
from solum_git.gitolite import render
from solum_git.gitolite import ssh
from solum_git.server import policy

BRANCH = 'master'
COMMAND_TIMEOUT = 120
# names per "solum-sync rm": keeps the command line well under sshd's limits
RM_BATCH = 200


class AdminError(Exception):
    """The server refused or failed an admin operation; the text says why."""


class ReposRefused(AdminError):
    """gitolite's compile failed on these repos (``repos``: {name: why})."""

    def __init__(self, message: str, repos: Iterable[str]):
        super().__init__(message)
        self.repos = repos


def generate_key() -> str:
    """A new ed25519 admin key as OpenSSH private key text."""
    key = ed25519.Ed25519PrivateKey.generate()
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.OpenSSH,
                             serialization.NoEncryption()).decode()


def public_key(private_text: str) -> str:
    """``ssh-ed25519 AAAA...`` for an OpenSSH private key text."""
    key = serialization.load_ssh_private_key(private_text.encode(), password=None)
    return key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                         serialization.PublicFormat.OpenSSH).decode()


class Check:
    """What ``solum-sync check`` reported."""

    def __init__(self, output: str):
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
    def clean(self) -> bool:
        return self.state == 'clean'


class Result:
    def __init__(self, pushed: bool, removed: Sequence[str], output: str = ''):
        self.pushed = pushed
        self.removed = removed
        self.output = output


class AdminClient:
    def __init__(self, workdir: str, host: str, port: Optional[int], user: str,
                 private_key: str, host_keys: Iterable[str],
                 connect_timeout: int = gitssh.CONNECT_TIMEOUT,
                 mux: Optional[ssh.Multiplexer] = None):
        self.workdir = workdir
        self.host = host
        self.port = port or 22
        self.user = user
        self.clone_dir = os.path.join(workdir, 'gitolite-admin')
        self.key_path = os.path.join(workdir, 'id_ed25519')
        self.known_hosts = os.path.join(workdir, 'known_hosts')
        self.connect_timeout = connect_timeout
        self.mux = mux
        self._socket: Optional[str] = None
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
    def url(self) -> str:
        return urls.git_url(self.user, self.host, self.port, render.ADMIN_REPO)

    def ssh_argv(self, mux: bool = True) -> List[str]:
        """ssh with the admin key and the pinned host key; through the master if any."""
        if mux and self.mux is not None:
            try:
                self._socket = self.mux.ensure(self)
            except ssh.ConnectError as e:
                raise AdminError(str(e))
            extra = ['-o', 'ControlMaster=no', '-o', 'ControlPath=%s' % self._socket]
        else:
            extra = []
        return ['ssh'] + extra + gitssh.options(self.key_path, self.known_hosts,
                                                self.connect_timeout)

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            # exec'd by git's shell, tethered to git (itself tethered): an ssh
            # of a push never outlives the engine that ran it
            'GIT_SSH_COMMAND': 'exec ' + ' '.join(
                shlex.quote(a) for a in procs.tethered(self.ssh_argv())),
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
            # a lock left by a killed engine is stale: the stack's lease makes
            # this pass the clone's only user
            _remove_locks(os.path.join(self.clone_dir, '.git'))
            try:
                repo = git.Repo(self.clone_dir)
                repo.git.rev_parse('--verify', '-q', 'refs/remotes/origin/%s' % BRANCH)
                return repo
            except git.GitError:
                pass  # half made (a crash during the clone): made again below
        shutil.rmtree(self.clone_dir, ignore_errors=True)
        try:
            self._network_git(git.Git(), 'clone', '--quiet', '--branch', BRANCH,
                              self.url, self.clone_dir)
            return git.Repo(self.clone_dir)
        except git.GitCommandError as e:
            shutil.rmtree(self.clone_dir, ignore_errors=True)
            raise AdminError('cannot clone gitolite-admin: %s' % _stderr(e))

    def _fetch(self, repo):
        try:
            self._network_git(repo.git, 'fetch', '--quiet', 'origin',
                              '+refs/heads/%s:refs/remotes/origin/%s' % (BRANCH, BRANCH))
        except git.GitCommandError as e:
            raise AdminError('cannot fetch gitolite-admin: %s' % _stderr(e))

    def _network_git(self, runner, *args):
        """git talking to the server, tethered to this thread; its stderr.

        GitPython's own spawning cannot be tethered: a ``git push`` (and its
        ssh) of a killed engine would go on writing to the server.
        """
        _status, _out, err = runner.execute(procs.tethered(['git'] + list(args)),
                                            env=self.env(), with_extended_output=True)
        return err

    def apply(self, rendered: render.Rendered, message: str,
              fetch: bool = False) -> Result:
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
                err = self._network_git(repo.git, 'push', 'origin',
                                        'HEAD:refs/heads/%s' % BRANCH)
            except git.GitCommandError as e:
                if attempt == 1 and 'rejected' in _stderr(e):
                    self._fetch(repo)
                    continue
                raise AdminError('gitolite-admin push failed: %s' % _stderr(e))
            _check_push_output(err, rendered.repos)
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
        # written whole too: a rule or a quota gone from the database goes here
        owned = os.path.join(self.clone_dir, policy.TOP_DIR)
        shutil.rmtree(owned, ignore_errors=True)
        for rel, text in rendered.files.items():
            path = os.path.join(self.clone_dir, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, 'w') as f:
                f.write(text)
        paths = ['conf', 'keydir'] + sorted(rendered.files)
        if repo.git.ls_files('--', policy.TOP_DIR):
            paths.append(policy.TOP_DIR)   # its files removed above
        repo.git.add('--all', '--', *paths)
        return old_conf

    # -- gitolite commands -----------------------------------------------------
    def command(self, *args: str, timeout: float = COMMAND_TIMEOUT) -> str:
        """Run an admin-only gitolite command on the server; its stdout."""
        argv = self.ssh_argv() + ['-p', str(self.port), '%s@%s' % (self.user, self.host)]
        argv += list(args)
        try:
            proc = subprocess.run(procs.tethered(argv), stdin=subprocess.DEVNULL,
                                  capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AdminError('%s: no answer in %ss' % (args[0], timeout))
        if proc.returncode != 0:
            raise AdminError('%s failed (%s): %s' % (' '.join(args[:2]), proc.returncode,
                                                     _last_lines(proc.stderr)))
        return proc.stdout

    def remove_repos(self, names: Iterable[str]) -> str:
        out = []
        names = sorted(names)
        for i in range(0, len(names), RM_BATCH):
            out.append(self.command('solum-sync', 'rm', *names[i:i + RM_BATCH]))
        return ''.join(out)

    def check(self, fix: bool = True) -> Check:
        """The server's view in one round trip: admin head, drift (fixed), repos."""
        args = ['solum-sync', 'check'] + (['--fix'] if fix else [])
        return Check(self.command(*args))

    def create_repos(self, repos: Iterable[Tuple[str, str, str]]) -> dict[str, str]:
        """Make repos on the server before the push that names them.

        ``repos``: (name, default branch, uuid); a repo of that name left by
        a deleted one (another uuid) is replaced, one made already is checked
        and gets its HEAD set. Returns {name: why} for the repos the server
        could not make; the others are made all the same.
        """
        repos = sorted(repos)
        failed = {}
        for i in range(0, len(repos), RM_BATCH // 3):
            args = [part for triple in repos[i:i + RM_BATCH // 3] for part in triple]
            failed.update(_failures(self.command('solum-sync', 'create', *args)))
        return failed

    def set_heads(self, branches: Mapping[str, str]) -> dict[str, str]:
        """Point each repo's HEAD at its branch ({name: branch}); {name: why} failed."""
        pairs = sorted(branches.items())
        failed = {}
        for i in range(0, len(pairs), RM_BATCH // 2):
            args = [part for pair in pairs[i:i + RM_BATCH // 2] for part in pair]
            failed.update(_failures(self.command('solum-sync', 'head', *args)))
        return failed

    def local_head(self) -> Optional[str]:
        """The server's gitolite-admin head as this clone last saw it (or None)."""
        if not os.path.isdir(os.path.join(self.clone_dir, '.git')):
            return None
        try:
            return git.Repo(self.clone_dir).git.rev_parse(
                '--verify', '-q', 'refs/remotes/origin/%s' % BRANCH)
        except git.GitError:
            return None


def _remove_locks(git_dir):
    """index.lock, HEAD.lock, refs/**/*.lock: what a killed git leaves behind."""
    for top in (git_dir, os.path.join(git_dir, 'refs')):
        for root, dirs, files in os.walk(top):
            for name in files:
                if name.endswith('.lock'):
                    os.unlink(os.path.join(root, name))
            if root == git_dir:
                dirs[:] = []


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


def _failures(output):
    """{name: why} from solum-sync's "failed NAME why" lines."""
    failed = {}
    for line in output.splitlines():
        word, _, rest = line.partition(' ')
        if word == 'failed':
            name, _, why = rest.strip().partition(' ')
            failed[name] = why.strip() or 'failed on the git server'
    return failed


# a Perl die() that is not gitolite's own _die ("mkdir x.git: File exists at
# .../Gitolite/Common.pm line 139.")
PERL_DIE = re.compile(r' at \S+ line \d+\.$')


def _check_push_output(err, repos=()):
    """gitolite reports compile failures on a push that git calls a success.

    When the failing lines name repos of ``repos`` (``x.git``), ReposRefused
    says which: the caller can leave them out and push again.
    """
    lines = [line.strip() for line in (err or '').splitlines()]
    named = {}
    for line in lines:
        # a Perl message counts only when it names a repo: it may be a warning
        if 'FATAL' in line or 'ERROR' in line or PERL_DIE.search(line):
            for name in _REPO_IN_LINE.findall(line):
                if name in repos:
                    named.setdefault(name, line[:500])
    bad = [line for line in lines if 'FATAL' in line or 'ERROR' in line
           or line in named.values()]
    if not bad:
        return
    message = 'gitolite rejected the config: %s' % ' | '.join(bad[:6])
    if named:
        raise ReposRefused(message, named)
    raise AdminError(message)


# "x.git" as gitolite and git print a repo's directory
_REPO_IN_LINE = re.compile(r'(?:^|[\s/\'"`])([A-Za-z0-9][A-Za-z0-9._-]*)\.git\b')
