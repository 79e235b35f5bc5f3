"""What the server programs share: where gitolite keeps things, who the admin is."""
import hashlib
import os
import sys


class Fatal(Exception):
    """The command stops: "FATAL: <program>: <text>" on stderr, exit 1."""


class Home:
    """gitolite's HOME and the paths under it (gitolite's environment wins)."""

    def __init__(self, environ=None):
        env = os.environ if environ is None else environ
        self.env = env
        self.home = env.get('HOME') or os.path.expanduser('~')
        self.repos = env.get('GL_REPO_BASE') or os.path.join(self.home, 'repositories')
        self.admin_base = env.get('GL_ADMIN_BASE') or os.path.join(self.home, '.gitolite')
        self.admin_git = os.path.join(self.repos, 'gitolite-admin.git')
        self.solum = os.path.join(self.home, '.solum-git')
        self.rc = os.path.join(self.home, '.gitolite.rc')
        self.rc_copy = os.path.join(self.solum, 'gitolite.rc')
        self.authorized_keys = os.path.join(self.home, '.ssh', 'authorized_keys')
        self.shim = os.path.join(self.home, 'local', 'hooks', 'common', 'post-receive')
        self.pre_receive = os.path.join(self.home, 'local', 'hooks', 'common', 'pre-receive')
        self.update_hook = os.path.join(self.admin_base, 'hooks', 'common', 'update')
        self.stamps = os.path.join(self.solum, 'stamps')
        self.keydir_sum = os.path.join(self.solum, 'keydir.sum')
        self.hook = os.path.join(self.solum, 'bin', 'solum-git-hook')
        self.hook_config = os.path.join(self.solum, 'hook.json')

    def require_admin(self):
        """Only solum-git's admin key may run these (its name: bootstrap.sh's file)."""
        admin = read_text(os.path.join(self.solum, 'admin-user')).rstrip('\n')
        if not admin or self.env.get('GL_USER', '') != admin:
            raise Fatal('only the admin may run this')

    def stamp(self):
        """What the last compile produced: sha256sum's lines of the conf, keys, rc."""
        lines = []
        for path in (os.path.join(self.admin_base, 'conf', 'gitolite.conf-compiled.pm'),
                     self.authorized_keys, self.rc):
            digest = file_sha256(path)
            lines.append('%s  %s' % (digest or 'missing', path))
        return '\n'.join(lines) + '\n'


def read_text(path, default=''):
    try:
        with open(path, encoding='utf-8', errors='replace') as f:
            return f.read()
    except OSError:
        return default


def file_sha256(path):
    """The hex sha256 of a regular file, None if there is none."""
    try:
        with open(path, 'rb') as f:
            return hashlib.sha256(f.read()).hexdigest()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def replace_with(path, write, mode=0o600, sync=False):
    """Replace ``path`` whole with what ``write(f)`` writes to a binary file: a
    reader sees the old file or the new one; with ``sync`` (fsynced before the
    rename) so does whoever reads it after a crash. Its size."""
    tmp = '%s.tmp.%d' % (path, os.getpid())
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
    try:
        with os.fdopen(fd, 'wb') as f:
            write(f)
            if sync:
                f.flush()
                os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return os.path.getsize(path)


def write_atomic(path, text, mode=0o600):
    """Replace ``path`` whole with ``text`` (a reader sees the old file or the new one)."""
    replace_with(path, lambda f: f.write(text.encode('utf-8')), mode)


def run(program, body, argv):
    """Run ``body(argv)``; a Fatal or an OSError becomes one "FATAL:" line, exit 1."""
    try:
        return body(argv) or 0
    except Fatal as e:
        why = str(e)
    except OSError as e:
        # no traceback (it would show this server's layout to the engine's log)
        why = '%s%s' % (e.strerror or e, ': %s' % os.path.basename(e.filename)
                        if e.filename else '')
    sys.stdout.flush()
    sys.stderr.write('FATAL: %s: %s\n' % (program, why))
    return 1


def top_repos(base):
    """base/*.git directories, by name (a symlink to one counts, as a shell glob's)."""
    try:
        entries = sorted(os.listdir(base))
    except FileNotFoundError:
        return []
    return [os.path.join(base, n) for n in entries
            if n.endswith('.git') and os.path.isdir(os.path.join(base, n))]
