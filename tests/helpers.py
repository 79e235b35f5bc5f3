"""Shared test helpers: free ports, throwaway databases, a live API over HTTP."""
import contextlib
import hashlib
import hmac
import os
import random
import socket
import socketserver
import subprocess
import sys
import threading
import time
import uuid
from wsgiref import simple_server

import requests
import sqlalchemy as sa

from solum_git import conf as conf_pkg

MYSQL_URL = os.environ.get('SOLUM_GIT_TEST_MYSQL', 'mysql+pymysql://root@127.0.0.1:3306')
POSTGRES_URL = os.environ.get('SOLUM_GIT_TEST_POSTGRES',
                              'postgresql+psycopg2://postgres@127.0.0.1:5432')
BACKENDS = ('sqlite', 'mysql', 'postgresql')
VENV_BIN = os.path.dirname(sys.executable)
# the [secrets] key of test services (the engine seals the stacks' private keys with it)
SECRETS_KEY = 'c29sdW0tZ2l0IHRlc3RzIG9ubHksIG5vdCBzZWNyZXQ='


def free_port():
    """A port free right now; another process may take it before the caller binds
    it: a server started on it must be checked (``wait_for_own_http``)."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def closed_port():
    """A loopback port where nothing listens, for as long as the block runs.

    Held bound but not listening (no SO_REUSEADDR): connecting is refused and no
    other process can take it meanwhile, as it could a port free_port() gave back.
    """
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        yield s.getsockname()[1]


class PortTaken(RuntimeError):
    """Another process listens on the port a server of the test was started on."""


def listening_pids(port):
    """The pids holding a listening TCP socket on ``port`` (any address), from /proc."""
    inodes = set()
    for table in ('/proc/net/tcp', '/proc/net/tcp6'):
        try:
            with open(table) as f:
                rows = f.read().splitlines()[1:]
        except FileNotFoundError:
            continue
        for row in rows:
            fields = row.split()
            # local_address is ADDR:PORT in hex; state 0A is LISTEN
            if fields[3] == '0A' and int(fields[1].rsplit(':', 1)[1], 16) == port:
                inodes.add('socket:[%s]' % fields[9])
    pids = set()
    for pid in filter(str.isdigit, os.listdir('/proc')):
        try:
            fds = os.listdir('/proc/%s/fd' % pid)
            if any(os.readlink('/proc/%s/fd/%s' % (pid, fd)) in inodes for fd in fds):
                pids.add(int(pid))
        except OSError:  # gone, or not ours to read
            continue
    return pids


def wait_for_own_http(url, proc, port, timeout=30, log_path=None):
    """Until ``proc`` itself answers on ``port``: PortTaken if another process
    listens there (the test would talk to someone else's server), RuntimeError
    if ``proc`` exits for another reason."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log = log_path.read_text(errors='replace')[-4000:] if log_path else ''
            if 'Address already in use' in log or listening_pids(port):
                raise PortTaken('port %d: taken before the server bound it' % port)
            raise RuntimeError('server exited with %s\n%s' % (proc.returncode, log))
        try:
            requests.get(url, timeout=1)
        except (requests.ConnectionError, requests.Timeout):
            # a Timeout: the port is open, the server's workers are still starting
            time.sleep(0.05)
            continue
        owners = listening_pids(port)
        if proc.pid in owners:
            return
        if owners:
            raise PortTaken('port %d: answered by pid %s, not by the server started '
                            '(pid %d)' % (port, sorted(owners), proc.pid))
    raise RuntimeError('%s did not answer in %ss' % (url, timeout))


@contextlib.contextmanager
def database(backend, tmp_path):
    """A new, empty database on the real server; dropped afterwards.

    A server that is not there fails the test: nothing is skipped.
    """
    if backend == 'sqlite':
        yield 'sqlite:///%s' % (tmp_path / ('db-%s.sqlite' % uuid.uuid4().hex[:8]))
        return
    name = 'sgtest_%s' % uuid.uuid4().hex[:12]
    server = MYSQL_URL if backend == 'mysql' else POSTGRES_URL
    admin_url = server + ('/test' if backend == 'mysql' else '/postgres')
    admin = sa.create_engine(admin_url, isolation_level='AUTOCOMMIT')
    with admin.connect() as conn:
        conn.execute(sa.text('CREATE DATABASE %s' % name))
    try:
        suffix = '?charset=utf8mb4' if backend == 'mysql' else ''
        yield '%s/%s%s' % (server, name, suffix)
    finally:
        with admin.connect() as conn:
            if backend == 'postgresql':
                conn.execute(sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = '%s' AND pid <> pg_backend_pid()" % name))
            conn.execute(sa.text('DROP DATABASE %s' % name))
        admin.dispose()


def sandbox_uids(size=10000):
    """A random slice of the sandbox uid range for one test world.

    Every world's first project would otherwise get the same uid, and tests
    running side by side would see each other's sandboxes as their own.
    """
    low, high = 1900000000, 1999999999
    base = low + random.randrange((high - low + 1) // size) * size
    return {'uid_min': base, 'uid_max': base + size - 1}


def make_conf(state_path, connection, config_file=None, **groups):
    """A fresh ConfigOpts; ``groups={'api': {'port': 1}}`` style overrides.

    ``config_file``: read first, for options only a file can set (the auth
    plugin options of keystoneauth1 and keystonemiddleware).
    """
    conf = conf_pkg.new()
    conf(['--config-file', str(config_file)] if config_file else [],
         project='solum-git', default_config_files=[])
    conf.set_override('state_path', str(state_path))
    conf.set_override('connection', connection, group='database')
    for key, value in sandbox_uids().items():
        conf.set_override(key, value, group='sandbox')
    conf.set_override('fernet_keys', [SECRETS_KEY], group='secrets')
    for group, values in groups.items():
        for key, value in values.items():
            conf.set_override(key, value, group=None if group == 'DEFAULT' else group)
    return conf


def write_config(path, sections):
    lines = []
    for section, values in sections.items():
        lines.append('[%s]' % section)
        lines.extend('%s = %s' % (k, v) for k, v in values.items())
        lines.append('')
    path.write_text('\n'.join(lines))
    return path


def stop_process(proc, timeout=10):
    """SIGTERM, then SIGKILL after ``timeout`` seconds; reaped either way."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class ApiProcess:
    """The real ``solum-git-api`` console script, on a free port."""

    def __init__(self, tmp_path, connection, extra=None):
        self.sections = {
            'DEFAULT': {'state_path': tmp_path / 'state'},
            'api': {'host': '127.0.0.1'},
            'database': {'connection': connection},
            'sandbox': sandbox_uids(),
            'secrets': {'fernet_keys': SECRETS_KEY},
        }
        for section, values in (extra or {}).items():
            self.sections.setdefault(section, {}).update(values)
        self.connection = connection
        self.config = tmp_path / 'solum-git.conf'
        self._use_port(free_port())
        self.log_path = tmp_path / 'api.log'
        self.proc = None
        self.started = False

    def _use_port(self, port):
        self.port = port
        self.url = 'http://127.0.0.1:%d' % port
        self.sections['api']['port'] = port
        write_config(self.config, self.sections)  # an existing file keeps its owner, mode

    def argv(self, command):
        """The console script ``solum-git-<command>`` (subclasses run it otherwise)."""
        return [os.path.join(VENV_BIN, 'solum-git-%s' % command)]

    def manage(self, *args):
        return subprocess.run(self.argv('manage') + ['--config-file', str(self.config)]
                              + list(args), check=True, capture_output=True, text=True)

    def start(self, attempts=5, timeout=30, path='/'):
        """The API, answering ``path`` on its own port (never another test's API)
        within ``timeout`` seconds.

        A port another process took first: a first start moves to a new one; a
        restart fails (its git servers call back on the old port).
        """
        for attempt in range(attempts):
            self.log = open(self.log_path, 'ab')
            self.proc = subprocess.Popen(self.argv('api') + ['--config-file', str(self.config)],
                                         stdout=self.log, stderr=subprocess.STDOUT)
            try:
                wait_for_own_http(self.url + path, self.proc, self.port,
                                  timeout=timeout, log_path=self.log_path)
            except PortTaken:
                self.stop()
                if self.started or attempt == attempts - 1:
                    raise
                self._use_port(free_port())
                continue
            except BaseException:
                self.stop()
                raise
            self.started = True
            return self

    def stop(self):
        if self.proc is not None:
            stop_process(self.proc, 15)
            self.log.close()
        self.proc = None

    def remove_local_stacks(self):
        """What the API's engine left on this machine: stop its git servers
        (``solum-git-manage stacks stop --all``) and, as root, remove the
        stacks' unix users."""
        try:
            self.manage('stacks', 'stop', '--all')
        except subprocess.CalledProcessError as e:
            raise AssertionError('stacks stop --all failed: %s' % e.stderr)
        finally:
            if os.geteuid() == 0:
                from solum_git.provisioners import stackusers
                engine = sa.create_engine(self.connection)
                try:
                    with engine.connect() as conn:
                        rows = conn.execute(sa.text(
                            'SELECT uuid, ssh_user FROM stacks')).all()
                finally:
                    engine.dispose()
                for stack_uuid, user in rows:
                    if stackusers.is_stack_user(user, stack_uuid):
                        stackusers.remove(stack_uuid)


class _QuietHandler(simple_server.WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, simple_server.WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class ThreadedApi:
    """The same WSGI stack on a real HTTP socket, served from a thread of the test.

    The app in the test's process (its engine, its fakes) on the stdlib's
    server; ``solum-git-api`` itself serves it with gunicorn (ApiProcess).
    """

    def __init__(self, root, port=0):
        self.root = root
        self.server = simple_server.make_server(
            '127.0.0.1', port, root.wsgi_app(), server_class=_ThreadingWSGIServer,
            handler_class=_QuietHandler)
        self.url = 'http://127.0.0.1:%d' % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={'poll_interval': 0.05}, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class Client:
    """requests with a project and user (noauth headers)."""

    def __init__(self, url, project_id, user_id, roles=None):
        self.url = url.rstrip('/')
        self.session = requests.Session()
        self.session.headers.update({'X-Project-Id': project_id, 'X-User-Id': user_id,
                                     'Content-Type': 'application/json'})
        if roles:
            self.session.headers['X-Roles'] = ','.join(roles)
        self.project_id = project_id
        self.user_id = user_id

    def _url(self, path):
        return path if path.startswith('http') else self.url + path

    def get(self, path, **kw):
        return self.session.get(self._url(path), timeout=30, **kw)

    def post(self, path, json=None, **kw):
        return self.session.post(self._url(path), json=json, timeout=30, **kw)

    def put(self, path, json=None, **kw):
        return self.session.put(self._url(path), json=json, timeout=30, **kw)

    def delete(self, path, **kw):
        return self.session.delete(self._url(path), timeout=30, **kw)


def hook_headers(secret, stack_uuid, body, timestamp=None, nonce=None):
    """A git server's signed request headers, computed here with hmac (not the
    hook's own code)."""
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or os.urandom(16).hex()
    message = ('v1\n%s\n%s\n%s\n' % (stack_uuid, timestamp, nonce)).encode() + body
    return {'X-Solum-Git-Stack': stack_uuid, 'X-Solum-Git-Timestamp': timestamp,
            'X-Solum-Git-Nonce': nonce, 'Content-Type': 'application/json',
            'X-Solum-Git-Signature': 'v1=' + hmac.new(secret.encode(), message,
                                                      hashlib.sha256).hexdigest()}
