"""The solum pipeline's production auth: a Keystone (trust-scoped) token.

The per-trigger trust against a real Keystone: tests/functional/test_solum_trusts.py.

A Keystone-shaped token server (bodies from keystoneauth1's own fixtures) and
a Solum-shaped receiver, both real HTTP on loopback; the pipeline gets its
session from the ``[solum]`` auth options through keystoneauth1, as in
production.
"""
import http.server
import json
import threading

from keystoneauth1 import fixture as ks_fixture
import pytest

from solum_git.common import states
from solum_git import conf as conf_pkg
from solum_git.pipelines import base
from solum_git.pipelines import solum
from tests import helpers

TOKEN = 'trust-scoped-token-1'


class Server:
    def __init__(self, handle):
        self.requests = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_PATCH(self):
                self.do_POST()

            def do_POST(self):
                body = self.rfile.read(int(self.headers['Content-Length']))
                outer.requests.append((self.command, self.path, dict(self.headers),
                                       json.loads(body)))
                status, headers, answer = handle(self.path)
                data = json.dumps(answer).encode()
                self.send_response(status)
                for name, value in dict(headers, **{'Content-Type': 'application/json',
                                                    'Content-Length': str(len(data))}
                                        ).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.url = 'http://127.0.0.1:%d' % self.httpd.server_port
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def _keystone(path):
    token = ks_fixture.V3Token(user_id='solum-git-service', trust_id='trust-1',
                               trustor_user_id='alice', trustee_user_id='solum-git-service')
    token.set_project_scope(id='project-a', name='project-a')
    return 201, {'X-Subject-Token': TOKEN}, token


@pytest.fixture
def peers():
    keystone = Server(_keystone)
    solum_api = Server(lambda path: (200, {}, {'id': 'wf-uuid-1', 'wf_id': 7,
                                               'actions': ['unittest']}))
    yield keystone, solum_api
    keystone.close()
    solum_api.close()


def _spec(tmp_path, trust_id=None):
    return base.RunSpec(
        uuid='run-1', type='solum', ref='refs/heads/main', before='0' * 40,
        commit='a' * 40, attempt=1,
        repo={'uuid': 'r', 'name': 'web', 'project_id': 'project-a'},
        push={'uuid': 'p', 'push_id': 'x', 'pusher': 'alice', 'refs': []},
        trigger={'uuid': 't', 'user_id': 'alice', 'trust_id': trust_id,
                 'source_url': 'http://deploy-1:s3cret@git.example.com/web.git',
                 'config': {'app_id': 'app-1', 'actions': ['unittest']}},
        source=None, work_dir=str(tmp_path / 'run'),
        log=base.RunLog(str(tmp_path / 'run' / 'log'), 4096),
        stopping=threading.Event())


@pytest.mark.parametrize('trigger_trust', [None, 'trust-of-the-trigger'])
def test_workflow_requests_carry_a_trust_scoped_keystone_token(tmp_path, peers,
                                                               trigger_trust):
    keystone, solum_api = peers
    # as an operator writes it: the plugin's own options appear once it is loaded;
    # its trust_id is the fallback of triggers made without one
    config = helpers.write_config(tmp_path / 'solum-git.conf', {'solum': {
        'url': solum_api.url, 'auth_strategy': 'keystone', 'auth_type': 'v3password',
        'auth_url': keystone.url + '/v3', 'username': 'solum-git-service',
        'password': 'secret', 'user_domain_id': 'default', 'trust_id': 'trust-1'}})
    conf = conf_pkg.new()
    conf(['--config-file', str(config)], project='solum-git', default_config_files=[])
    result = solum.SolumPipeline(conf).execute(_spec(tmp_path, trigger_trust))
    assert result.status == states.RunStatus.SUCCESS, result.reason
    assert 'workflow 7 (unittest) created on app app-1' in result.reason
    _method, path, _headers, auth = keystone.requests[0]
    assert path == '/v3/auth/tokens'
    assert auth['auth']['identity']['password']['user']['name'] == 'solum-git-service'
    assert auth['auth']['scope'] == {'OS-TRUST:trust': {'id': trigger_trust or 'trust-1'}}
    (patch, patch_path, patch_headers, source), (post, path, headers, body) = \
        solum_api.requests
    assert (patch, patch_path) == ('PATCH', '/v1/apps/app-1')
    assert source == {'source': {'repository': 'http://deploy-1:s3cret@git.example.com'
                                               '/pin/%s/web.git' % ('a' * 40)}}
    assert (post, path) == ('POST', '/v1/apps/app-1/workflows')
    assert headers['X-Auth-Token'] == patch_headers['X-Auth-Token'] == TOKEN
    assert 'X-User-Id' not in headers
    assert body == {'actions': ['unittest']}
