"""What the git-server tests share: a live solum-git-api with local stacks, and
developers with real ssh keys running real git against it.
"""
import contextlib
import os
import pathlib
import random
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import time
import types

from tests import helpers

ENV_CLEAN = {'GIT_CONFIG_NOSYSTEM': '1', 'GIT_TERMINAL_PROMPT': '0', 'LANG': 'C'}


def _ephemeral_low():
    """The kernel's first ephemeral port: outgoing connections and ``bind(0)``
    take ports from there up, so a port picked there may be gone by the time a
    server binds it (the clean-clone CI saw "Address already in use")."""
    try:
        with open('/proc/sys/net/ipv4/ip_local_port_range') as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def port_range(count, attempts=200):
    """``count`` consecutive loopback ports that are free right now, below the
    ephemeral range (only other tests' servers can take them meanwhile)."""
    for _ in range(attempts):
        base = random.randint(10000, max(10001, _ephemeral_low() - count))
        socks = []
        try:
            for port in range(base, base + count):
                s = socket.socket()
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(('127.0.0.1', port))
                socks.append(s)
            return base, base + count - 1
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError('no %d consecutive free ports' % count)


@contextlib.contextmanager
def stacks_dir():
    """Where local stacks live in a test.

    As root the stacks are owned by another user (solum-git), which cannot
    walk into pytest's 0700 temp dirs: give them a traversable one in /tmp.
    """
    path = tempfile.mkdtemp(prefix='sg-stacks-')
    os.chmod(path, 0o711)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def running_api(tmp_path, **kwargs):
    """A started GitApi in its own stacks dir; stopped and cleaned up after."""
    with stacks_dir() as stacks:
        api = GitApi(tmp_path, stacks, **kwargs)
        api.start()
        try:
            yield api
        finally:
            api.stop()


def sshd_pids(under):
    """Pids of live sshd processes whose config lies under ``under``."""
    found = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/cmdline' % entry, 'rb') as f:
                cmdline = f.read().split(b'\0')
            with open('/proc/%s/stat' % entry) as f:
                state = f.read().rsplit(')', 1)[1].split()[0]
        except OSError:
            continue
        # sshd retitles itself ("sshd: /usr/sbin/sshd -D -f ... [listener]")
        title = b' '.join(cmdline)
        if state != 'Z' and title.split(b' ', 1)[0].rstrip(b':').endswith(b'sshd') \
                and (b' ' + under.encode()) in title:
            found.append(int(entry))
    return found


def sshd_listeners(under):
    """The listening sshd among :func:`sshd_pids`: a connection's sshd is a
    child of the listener and keeps its title until it is authenticated."""
    pids = sshd_pids(under)
    return [pid for pid in pids if (_proc_stat(pid) or (None, None))[1] not in pids]


def memory_mb(pid):
    """(RSS, PSS) of a live process in MB, from /proc/<pid>/smaps_rollup."""
    kb = {'Rss:': 0, 'Pss:': 0}
    with open('/proc/%d/smaps_rollup' % pid) as f:
        for line in f:
            key = line.split(None, 1)[0]
            if key in kb:
                kb[key] += int(line.split()[1])
    return kb['Rss:'] / 1024.0, kb['Pss:'] / 1024.0


def _proc_stat(pid):
    try:
        with open('/proc/%d/stat' % pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            title = f.read().replace(b'\0', b' ').decode(errors='replace').strip()
    except (OSError, IndexError):
        return None
    return fields[0], int(fields[1]), int(fields[19]), title


def descendants(pid):
    """{(pid, start time): command line} of the live processes below ``pid``."""
    table = {}
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            info = _proc_stat(int(entry))
            if info and info[0] != 'Z':
                table[int(entry)] = info
    found, todo = {}, [pid]
    while todo:
        parent = todo.pop()
        for child, (_state, ppid, started, title) in table.items():
            if ppid == parent and (child, started) not in found:
                found[(child, started)] = title
                todo.append(child)
    return found


def still_running(processes):
    """Those of ``processes`` ({(pid, start): title}) that still run."""
    left = {}
    for (pid, started), title in processes.items():
        info = _proc_stat(pid)
        if info and info[0] != 'Z' and info[2] == started:
            left[(pid, started)] = title
    return left


class GitApi(helpers.ApiProcess):
    """solum-git-api with the local provisioner on its own port range."""

    def __init__(self, tmp_path, stacks_path, ports=4, extra=None):
        low, high = port_range(ports)
        http_low, http_high = port_range(ports)
        self.stacks_path = stacks_path
        sections = {
            'local': {'ssh_port_min': low, 'ssh_port_max': high,
                      'http_port_min': http_low, 'http_port_max': http_high,
                      'stacks_path': stacks_path},
            'engine': {'poll_interval': 0.05, 'resync_interval': 3600},
        }
        for section, values in (extra or {}).items():
            sections.setdefault(section, {}).update(values)
        self.db_path = tmp_path / 'solum-git.sqlite'
        super().__init__(tmp_path, 'sqlite:///%s' % self.db_path, extra=sections)
        self.manage('db', 'upgrade')

    def stack_row(self, project):
        with contextlib.closing(sqlite3.connect(str(self.db_path), timeout=30)) as db:
            db.row_factory = sqlite3.Row
            return db.execute('SELECT * FROM stacks WHERE project_id = ?',
                              (project,)).fetchone()

    def wait_applied(self, project, timeout=60):
        """Until the engine has applied what the database says now.

        The version is not in the API; the test reads the engine's own record.
        """
        row = self.stack_row(project)
        wanted = row['config_version']
        # a resync asked is an intent in the row too: done, not just leased
        asked = row['resync_requested']

        def done():
            row = self.stack_row(project)
            assert row['status'] != 'ERROR', row['status_reason']
            return (row['applied_version'] >= wanted and row['lease_owner'] is None
                    and row['resync_done'] >= asked)
        wait_for(done, timeout, what='%s applied' % project)

    def hold_lease(self, project, hold=True):
        """Pretend another engine holds the stack (or let go): changes pile up."""
        with contextlib.closing(sqlite3.connect(str(self.db_path), timeout=30)) as db:
            db.execute('UPDATE stacks SET lease_owner = ?, lease_expires = ? '
                       'WHERE project_id = ?',
                       ('test-holder', '2999-01-01 00:00:00.000000', project) if hold
                       else (None, None, project))
            db.commit()

    def home(self, stack_uuid):
        return pathlib.Path(self.stacks_path) / stack_uuid / 'home'

    def sshd_dir(self, stack_uuid):
        return pathlib.Path(self.stacks_path) / stack_uuid / 'sshd'

    def stack_rows(self):
        with contextlib.closing(sqlite3.connect(str(self.db_path), timeout=30)) as db:
            db.row_factory = sqlite3.Row
            return db.execute('SELECT * FROM stacks ORDER BY id').fetchall()

    def git_user(self, stack_uuid):
        rows = [r for r in self.stack_rows() if r['uuid'] == stack_uuid]
        assert rows, 'no stack %s' % stack_uuid
        return rows[0]['ssh_user']

    def as_git(self, stack_uuid, script, check=True):
        """Run a shell script as the stack's unix user with gitolite's HOME."""
        home = str(self.home(stack_uuid))
        argv = ['env', 'HOME=%s' % home, 'sh', '-c', script]
        if os.geteuid() == 0:
            argv = ['runuser', '-u', self.git_user(stack_uuid), '--'] + argv
        done = subprocess.run(argv, env=dict(os.environ, HOME=home), cwd=home,
                              capture_output=True, text=True, timeout=60)
        if check:
            assert done.returncode == 0, done.stderr
            return done.stdout
        return done

    def resync(self, client, stack_uuid):
        r = client.post('/v1/infrastructure/stacks/%s/actions' % stack_uuid,
                        json={'action': 'resync'})
        assert r.status_code == 202, r.text

    def stop_api(self):
        """Only the API process (SIGTERM); its git servers keep running."""
        super().stop()

    def kill_api(self):
        """kill -9 of the API process, as a crash would."""
        self.proc.kill()
        self.proc.wait()
        self.log.close()
        self.proc = None

    def stop(self):
        """The end of a test: the API, then its git servers and their users."""
        super().stop()
        try:
            self.remove_local_stacks()
        finally:
            left = sshd_pids(self.stacks_path)
            for pid in left:
                os.kill(pid, 9)
        assert not left, 'sshd processes left running after "stacks stop --all": %s' % left


def wait_for(predicate, timeout=60, interval=0.05, what='condition'):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError('timed out after %ss waiting for %s' % (timeout, what))
        time.sleep(interval)


class Dev:
    """A developer: an API client, an ssh key made by ssh-keygen, git clones."""

    def __init__(self, api, tmp_path, project, user, key=True):
        self.api = helpers.Client(api.url, project, user)
        self.user = user
        self.dir = pathlib.Path(tmp_path) / ('dev-%s-%s' % (project, user))
        self.dir.mkdir(parents=True, exist_ok=True)
        self.key = self.dir / 'id_ed25519'
        subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C',
                        '%s@test' % user, '-f', str(self.key)], check=True)
        self.known_hosts = self.dir / 'known_hosts'
        self.known_hosts.write_text('')
        self.key_uuid = None
        if key:
            self.upload_key()

    def upload_key(self):
        r = self.api.post('/v1/infrastructure/keys', json={
            'name': 'laptop', 'public_key': (self.dir / 'id_ed25519.pub').read_text()})
        assert r.status_code == 201, r.text
        self.key_uuid = r.json()['uuid']
        return r.json()

    # -- API ---------------------------------------------------------------------
    def create_repo(self, name):
        r = self.api.post('/v1/infrastructure/repos', json={'name': name})
        assert r.status_code == 201, r.text
        return r.json()

    def repo(self, uuid):
        return self.api.get('/v1/infrastructure/repos/%s' % uuid).json()

    def wait_active(self, repo, timeout=60):
        def active():
            view = self.repo(repo['uuid'])
            if view['status'] == 'ACTIVE':
                return view
            stack = self.api.get(view['stack_uri']).json()
            assert stack['status'] != 'ERROR', stack['status_reason']
            return None
        return wait_for(active, timeout, what='repo %s ACTIVE' % repo['name'])

    def stack(self):
        stacks = self.api.get('/v1/infrastructure/stacks').json()
        assert len(stacks) == 1, stacks
        return stacks[0]

    def pin(self, stack=None):
        """Trust exactly the host keys the API shows for the stack."""
        stack = stack or self.stack()
        assert stack['ssh_host_keys'], stack
        self.known_hosts.write_text('\n'.join(stack['ssh_host_keys']) + '\n')
        return stack

    def set_member(self, repo, user_id, permission):
        r = self.api.put('/v1/infrastructure/repos/%s/members/%s' % (repo['uuid'], user_id),
                         json={'permission': permission})
        assert r.status_code in (200, 201), r.text

    def remove_member(self, repo, user_id):
        r = self.api.delete('/v1/infrastructure/repos/%s/members/%s'
                            % (repo['uuid'], user_id))
        assert r.status_code in (200, 204), r.text

    # -- git ---------------------------------------------------------------------
    def env(self):
        env = dict(os.environ, **ENV_CLEAN)
        env.update({
            'GIT_SSH_COMMAND': 'ssh -F /dev/null -i %s -o IdentitiesOnly=yes '
                               '-o IdentityAgent=none -o BatchMode=yes '
                               '-o UserKnownHostsFile=%s -o GlobalKnownHostsFile=/dev/null '
                               '-o StrictHostKeyChecking=yes' % (self.key, self.known_hosts),
            'GIT_AUTHOR_NAME': self.user, 'GIT_AUTHOR_EMAIL': '%s@example.com' % self.user,
            'GIT_COMMITTER_NAME': self.user,
            'GIT_COMMITTER_EMAIL': '%s@example.com' % self.user,
            'HOME': str(self.dir)})
        return env

    def git(self, *args, cwd=None):
        return subprocess.run(['git'] + list(args), cwd=cwd, env=self.env(),
                              capture_output=True, text=True, timeout=60)

    def ssh(self, url, *command):
        """Run a gitolite command (e.g. info) on the server of ``url``."""
        host, port = _host_port(url)
        argv = self.env()['GIT_SSH_COMMAND'].split() + ['-p', str(port), host] + list(command)
        return subprocess.run(argv, capture_output=True, text=True, timeout=60,
                              stdin=subprocess.DEVNULL)

    def clone(self, url, name=None):
        dest = self.dir / (name or 'clone-%d' % time.monotonic_ns())
        done = self.git('clone', '-q', url, str(dest))
        return done, dest

    def commit(self, work, message, files=None):
        for path, text in (files or {message.replace(' ', '-') + '.txt': message}).items():
            (work / path).write_text(text)
        assert self.git('add', '-A', cwd=work).returncode == 0
        done = self.git('commit', '-q', '-m', message, cwd=work)
        assert done.returncode == 0, done.stderr
        return self.git('rev-parse', 'HEAD', cwd=work).stdout.strip()

    def push(self, work, *refspecs, force=False):
        args = ['push', '-q'] + (['--force'] if force else []) + ['origin']
        return self.git(*(args + list(refspecs or ['HEAD:refs/heads/main'])), cwd=work)

    def ls_remote(self, url):
        return self.git('ls-remote', url)

    def seed(self, repo, name, message):
        """A clone of ``repo`` in ``name`` with a first commit pushed: (work tree, commit)."""
        done, work = self.clone(repo['git_url'], name)
        assert done.returncode == 0, done.stderr
        commit = self.commit(work, message)
        done = self.push(work)
        assert done.returncode == 0, done.stderr
        return work, commit


def team(api, tmp_path, **projects):
    """A test world: ``api``, ``tmp`` and a Dev per user (``alice='project-a'``)."""
    w = types.SimpleNamespace(api=api, tmp=tmp_path)
    for user, project in projects.items():
        setattr(w, user, Dev(api, tmp_path, project, user))
    return w


def settle(api, *owned):
    """Each (dev, repo) ACTIVE and each of their projects applied; the repos' views."""
    views = [dev.wait_active(repo) for dev, repo in owned]
    for project in sorted({dev.api.project_id for dev, _repo in owned}):
        api.wait_applied(project)
    return views


def _host_port(url):
    rest = url.split('://', 1)[1].split('/', 1)[0]
    user_host, _, port = rest.rpartition(':')
    return user_host, int(port)


def _venv_site():
    import sysconfig
    return sysconfig.get_paths()['purelib']


def _allow_traverse(path):
    """Add o+x to each ancestor of ``path`` that lacks it; [(dir, old mode)]."""
    opened = []
    current = '/'
    for part in pathlib.Path(path).resolve().parts[1:]:
        current = os.path.join(current, part)
        if not os.path.isdir(current):
            break
        mode = os.stat(current).st_mode & 0o7777
        if not mode & 0o001:
            os.chmod(current, mode | 0o001)
            opened.append((current, mode))
    return opened


class UnprivilegedApi(GitApi):
    """solum-git-api run by a throwaway unprivileged user (the test runs as root).

    That user cannot reach this venv's interpreter (under /root), so the API
    runs on the system python3 (same 3.11 ABI) with this venv's site-packages
    added by ``site.addsitedir``: the same code and libraries, another user.
    """

    USER = 'sg-unpriv-test'
    LAUNCH = ('import site, sys; site.addsitedir(%r); '
              'from solum_git.cmd import %s as cmd; sys.exit(cmd.main())')

    def __init__(self, top, ports=4, extra=None):
        """``top``: a directory outside pytest's; config, state and stacks go in it."""
        import pwd
        self.created_user = False
        try:
            pwd.getpwnam(self.USER)
        except KeyError:
            subprocess.run(['useradd', '--system', '--user-group', '--shell', '/bin/sh',
                            '--home-dir', '/', '--no-create-home', self.USER], check=True)
            self.created_user = True
        entry = pwd.getpwnam(self.USER)
        self.uid, self.gid = entry.pw_uid, entry.pw_gid
        # the checkout may sit in a 0700 dir (mktemp -d): let the user walk to
        # the venv and the source, for this test only
        self.opened = []
        import solum_git
        for target in (_venv_site(), os.path.dirname(os.path.dirname(solum_git.__file__))):
            self.opened += _allow_traverse(target)
        stacks = top / 'stacks'
        stacks.mkdir()
        for path in (top, stacks):
            os.chown(str(path), self.uid, self.gid)
        try:
            super().__init__(top, str(stacks), ports, extra)
        except BaseException:
            self.remove_user()
            raise
        for path in (self.config, self.log_path):
            path.touch()
            os.chown(str(path), self.uid, self.gid)

    def argv(self, command):
        return ['setpriv', '--reuid=%d' % self.uid, '--regid=%d' % self.gid,
                '--clear-groups', 'env', '-i', 'HOME=/', 'LANG=C',
                'PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin',
                '/usr/bin/python3', '-S', '-c', self.LAUNCH % (_venv_site(), command)]

    def remove_user(self):
        for path, mode in reversed(self.opened):
            os.chmod(path, mode)
        self.opened = []
        if self.created_user:
            subprocess.run(['userdel', self.USER], check=False)
