"""Keystone auth end to end: `solum-git` and `openstack git` log in, find the
"git" endpoint in the catalog and call the API, whose auth_token middleware
accepts the token.

Keystone cannot run here; it is met at its HTTP API (DESIGN section 7): a
small server answering version discovery and ``POST /v3/auth/tokens`` with
bodies built by keystoneauth1's own fixtures. The API side validates the same
token ids through keystonemiddleware's fixture.
"""
import http.server
import json
import os
import subprocess
import sys
import threading

from keystoneauth1 import fixture as ksa_fixture
from keystonemiddleware import fixture as ksm_fixture
import pytest

from tests import helpers

USERS = {
    # name: (password, user_id, project_name, project_id, roles)
    'alice': ('alice-pw', 'alice-id', 'demo', 'proj-a', ['member']),
    'mallory': ('mallory-pw', 'mallory-id', 'evil', 'proj-m', ['member']),
}


class FakeKeystone(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, git_url):
        super().__init__(('127.0.0.1', 0), _KeystoneHandler)
        self.url = 'http://127.0.0.1:%d' % self.server_address[1]
        self.git_url = git_url
        self.requests = []
        self.thread = threading.Thread(target=self.serve_forever,
                                       kwargs={'poll_interval': 0.05}, daemon=True)

    def token_for(self, name):
        password, user_id, project_name, project_id, roles = USERS[name]
        token = ksa_fixture.V3Token(user_id=user_id, user_name=name,
                                    user_domain_id='default', project_id=project_id,
                                    project_name=project_name,
                                    project_domain_id='default')
        for role in roles:
            token.add_role(name=role)
        token.add_service('git').add_standard_endpoints(
            public=self.git_url, region='RegionOne')
        return 'token-' + name, token


class _KeystoneHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _send(self, status, body, headers=()):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.server.requests.append(('GET', self.path))
        v3 = ksa_fixture.V3Discovery(self.server.url + '/v3')
        if self.path.rstrip('/') == '/v3':
            return self._send(200, {'version': v3})
        return self._send(300, {'versions': {'values': [v3]}})

    def do_POST(self):
        self.server.requests.append(('POST', self.path))
        body = json.loads(self.rfile.read(int(self.headers['Content-Length'])))
        if self.path.rstrip('/') != '/v3/auth/tokens':
            return self._send(404, {'error': {'code': 404, 'message': 'not found'}})
        user = body['auth']['identity']['password']['user']
        name = user.get('name')
        if name not in USERS or USERS[name][0] != user.get('password'):
            return self._send(401, {'error': {
                'code': 401, 'title': 'Unauthorized',
                'message': 'The request you have made requires authentication.'}})
        token_id, token = self.server.token_for(name)
        return self._send(201, token, headers=[('X-Subject-Token', token_id)])


@pytest.fixture
def keystone(make_root, sqlite_url):
    auth = ksm_fixture.AuthTokenFixture()
    auth.setUp()
    root = make_root(sqlite_url, api={'auth_strategy': 'keystone'})
    from keystonemiddleware.auth_token import _opts
    root.conf.register_opts(_opts._OPTS, group='keystone_authtoken')
    api = helpers.ThreadedApi(root).start()
    server = FakeKeystone(api.url)
    server.thread.start()
    for name in USERS:
        token_id, token = server.token_for(name)
        auth.add_token(token, token_id=token_id)
    yield server
    server.shutdown()
    server.server_close()
    api.stop()
    auth.cleanUp()


def _env(keystone, user, **extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(('OS_', 'SOLUM_GIT'))}
    env.update(OS_AUTH_URL=keystone.url + '/v3', OS_USERNAME=user,
               OS_PASSWORD=USERS[user][0], OS_PROJECT_NAME=USERS[user][2],
               OS_USER_DOMAIN_ID='default', OS_PROJECT_DOMAIN_ID='default',
               OS_IDENTITY_API_VERSION='3', OS_INTERFACE='public',
               PYTHONWARNINGS='ignore')
    env.update(extra)
    return env


def _run(program, args, env):
    return subprocess.run([os.path.join(helpers.VENV_BIN, program)] + args, env=env,
                          capture_output=True, text=True, timeout=120)


def test_solum_git_with_keystone_credentials_uses_the_catalog(keystone):
    result = _run('solum-git', ['repo', 'create', 'ks-app', '--no-wait', '-f', 'json'],
                  _env(keystone, 'alice'))
    assert result.returncode == 0, result.stderr
    repo = json.loads(result.stdout)
    # the API saw who the token says, not anything the CLI claimed
    assert repo['project_id'] == 'proj-a' and repo['user_id'] == 'alice-id'
    assert ('POST', '/v3/auth/tokens') in keystone.requests
    # another project's token sees nothing
    result = _run('solum-git', ['repo', 'list', '-f', 'json'], _env(keystone, 'mallory'))
    assert result.returncode == 0 and json.loads(result.stdout) == []


def test_wrong_password_is_one_line_and_no_traceback(keystone):
    result = _run('solum-git', ['repo', 'list'],
                  _env(keystone, 'alice', OS_PASSWORD='wrong'))
    assert result.returncode == 1
    assert 'Traceback' not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith('Keystone refused the credentials') and '401' in lines[0]


def test_openstack_git_repo_list_through_the_osc_plugin(keystone, tmp_path):
    env = _env(keystone, 'alice')
    assert _run('solum-git', ['repo', 'create', 'osc-app', '--no-wait'],
                env).returncode == 0
    osc = os.path.join(helpers.VENV_BIN, 'openstack')
    assert os.path.exists(osc), 'python-openstackclient is in test-requirements.txt'
    result = _run('openstack', ['git', 'repo', 'list', '-f', 'json'], env)
    assert result.returncode == 0, result.stderr
    assert [r['name'] for r in json.loads(result.stdout)] == ['osc-app']
    result = _run('openstack', ['git', 'repo', 'show', 'osc-app', '-f', 'value',
                                '-c', 'project_id'], env)
    assert result.stdout.strip() == 'proj-a', result.stderr
    # an API error through OpenStackClient is still one line
    result = _run('openstack', ['git', 'repo', 'show', 'missing'], env)
    assert result.returncode == 1 and 'repo missing not found' in result.stderr
    assert 'Traceback' not in result.stderr
    # the endpoint can be overridden like any OpenStackClient service's
    with helpers.closed_port() as port:
        result = _run('openstack', ['--os-git-url', 'http://127.0.0.1:%d' % port, 'git',
                                    'repo', 'list'], env)
    assert result.returncode == 1 and 'cannot reach' in result.stderr
    help_text = _run('openstack', ['help', 'git', 'repo', 'create'], env).stdout
    assert '--add-remote' in help_text


def test_help_without_any_credentials(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
    result = subprocess.run([sys.executable, '-m', 'solum_git.cli.shell', 'help',
                             'repo', 'create'], env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0 and '--no-wait' in result.stdout


def test_unreachable_keystone_is_named_in_one_line(keystone):
    with helpers.closed_port() as port:
        env = _env(keystone, 'alice', OS_AUTH_URL='http://127.0.0.1:%d/v3' % port,
                   SOLUM_GIT_URL=keystone.git_url)
        result = _run('solum-git', ['repo', 'list'], env)
    assert result.returncode == 1 and 'Traceback' not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith('cannot reach http://127.0.0.1:%d/v3' % port), lines
