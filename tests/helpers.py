"""Shared test helpers: free ports, throwaway databases, a live API over HTTP."""
import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
import uuid

import requests
import sqlalchemy as sa

from solum_git import conf as conf_pkg

MYSQL_URL = os.environ.get('SOLUM_GIT_TEST_MYSQL', 'mysql+pymysql://root@127.0.0.1:3306')
POSTGRES_URL = os.environ.get('SOLUM_GIT_TEST_POSTGRES',
                              'postgresql+psycopg2://postgres@127.0.0.1:5432')
BACKENDS = ('sqlite', 'mysql', 'postgresql')
VENV_BIN = os.path.dirname(sys.executable)


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


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


def make_conf(state_path, connection, **groups):
    """A fresh ConfigOpts; ``groups={'api': {'port': 1}}`` style overrides."""
    conf = conf_pkg.new()
    conf([], project='solum-git', default_config_files=[])
    conf.set_override('state_path', str(state_path))
    conf.set_override('connection', connection, group='database')
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


def wait_for_http(url, timeout=30, proc=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError('server exited with %s' % proc.returncode)
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.05)
    raise RuntimeError('%s did not answer in %ss' % (url, timeout))


class ApiProcess:
    """The real ``solum-git-api`` console script, on a free port."""

    def __init__(self, tmp_path, connection, extra=None):
        self.port = free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        sections = {
            'DEFAULT': {'state_path': tmp_path / 'state'},
            'api': {'host': '127.0.0.1', 'port': self.port},
            'database': {'connection': connection},
        }
        for section, values in (extra or {}).items():
            sections.setdefault(section, {}).update(values)
        self.config = write_config(tmp_path / 'solum-git.conf', sections)
        self.log_path = tmp_path / 'api.log'
        self.proc = None

    def manage(self, *args):
        return subprocess.run([os.path.join(VENV_BIN, 'solum-git-manage'),
                               '--config-file', str(self.config)] + list(args),
                              check=True, capture_output=True, text=True)

    def start(self):
        self.log = open(self.log_path, 'ab')
        self.proc = subprocess.Popen(
            [os.path.join(VENV_BIN, 'solum-git-api'), '--config-file', str(self.config)],
            stdout=self.log, stderr=subprocess.STDOUT)
        wait_for_http(self.url + '/', proc=self.proc)
        return self

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            self.log.close()
        self.proc = None


class ThreadedApi:
    """The same WSGI stack on a real HTTP socket, served from a thread."""

    def __init__(self, root):
        from solum_git.cmd import api as api_cmd
        self.root = root
        self.server = api_cmd.make_server('127.0.0.1', 0, root.wsgi_app())
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
