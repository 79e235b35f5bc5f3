"""Per-trigger Keystone trusts, against a real Keystone (tests/peers/keystone.py).

The API runs with keystonemiddleware validating users' tokens at that
Keystone; a solum trigger made with alice's token makes a trust from alice
to solum-git's service user; its runs reach a Solum-shaped receiver (real
HTTP on loopback) with a token that Keystone itself says is scoped to that
trust; deleting the trigger deletes the trust. (Solum itself, without
Keystone, is in test_push_solum.py.)
"""
import http.server
import json
import re
import threading

import pytest

from tests.functional import pushenv
from tests import helpers

TRIGGERS = '/v1/infrastructure/repos/%s/triggers'


class SolumReceiver(http.server.ThreadingHTTPServer):
    """Answers the pipeline's PATCH app and POST workflow as Solum 15 does."""
    daemon_threads = True

    def __init__(self):
        super().__init__(('127.0.0.1', 0), _Receive)
        self.url = 'http://127.0.0.1:%d' % self.server_address[1]
        self.requests = []
        threading.Thread(target=self.serve_forever, kwargs={'poll_interval': 0.05},
                         daemon=True).start()

    def stop(self):
        self.shutdown()
        self.server_close()


class _Receive(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _answer(self):
        body = json.loads(self.rfile.read(int(self.headers['Content-Length'])))
        self.server.requests.append((self.command, self.path,
                                     self.headers.get('X-Auth-Token'), body))
        data = json.dumps({'id': 'wf-%d' % len(self.server.requests), 'wf_id': 1}).encode()
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_PATCH = do_POST = _answer


class TokenClient(helpers.Client):
    """The API's client with a Keystone token instead of noauth headers."""

    def __init__(self, url, token, project_id, user_id):
        super().__init__(url, project_id, user_id)
        self.session.headers.clear()
        self.session.headers.update({'X-Auth-Token': token,
                                     'Content-Type': 'application/json'})


def _auth(keystone, user):
    return {'auth_type': 'password', 'auth_url': keystone.url, 'username': user.name,
            'password': user.password, 'user_domain_id': 'default',
            'project_name': user.project_name, 'project_domain_id': 'default'}


@pytest.fixture
def trusts_env(tmp_path, keystone):
    service = keystone.service_user
    receiver = SolumReceiver()
    config = helpers.write_config(tmp_path / 'solum-git.conf', {
        'api': {'auth_strategy': 'keystone'},
        'keystone_authtoken': dict(_auth(keystone, service),
                                   www_authenticate_uri=keystone.url),
        'solum': dict(_auth(keystone, service), url=receiver.url,
                      auth_strategy='keystone'),
    })
    env = pushenv.PushEnv(tmp_path, 'sqlite:///%s' % (tmp_path / 'db.sqlite'),
                          config_file=config).start()
    try:
        alice = keystone.make_user()
        client = TokenClient(env.api.url, keystone.token(alice), alice.project_id,
                             alice.id)
        repo = env.make_repo(client, 'web')
        yield {'env': env, 'keystone': keystone, 'alice': alice, 'client': client,
               'repo': repo, 'receiver': receiver}
    finally:
        env.stop()
        receiver.stop()


def _trust_id(env, trigger_uuid):
    from solum_git.db import models
    import sqlalchemy as sa
    with env.db.reader() as session:
        return session.execute(sa.select(models.Trigger.trust_id).where(
            models.Trigger.uuid == trigger_uuid)).scalar_one()


def test_a_trigger_made_with_a_users_token_makes_a_trust_to_the_service_user(trusts_env):
    ks, alice, client = trusts_env['keystone'], trusts_env['alice'], trusts_env['client']
    created = client.post(TRIGGERS % trusts_env['repo']['uuid'],
                          json={'type': 'solum', 'config': {'app_id': 'app-1'}})
    assert created.status_code == 201, created.text
    assert 'trust' not in created.text
    trust = ks.get_trust(alice, _trust_id(trusts_env['env'], created.json()['uuid']))
    assert trust['trustor_user_id'] == alice.id
    assert trust['trustee_user_id'] == ks.service_user.id
    assert trust['project_id'] == alice.project_id
    assert trust['impersonation'] is True
    assert 'member' in {r['name'] for r in trust['roles']}


def test_a_workflow_is_started_with_a_token_scoped_to_the_triggers_trust(trusts_env):
    ks, alice, client = trusts_env['keystone'], trusts_env['alice'], trusts_env['client']
    repo, env = trusts_env['repo'], trusts_env['env']
    trigger = client.post(TRIGGERS % repo['uuid'], json={
        'type': 'solum', 'config': {'app_id': 'app-1'}}).json()
    trust_id = _trust_id(env, trigger['uuid'])
    tree = pushenv.WorkTree(env.tmp / 'wt', repo['bare'])
    sha = tree.commit({'app.py': 'print(1)\n'}, 'one')
    output = tree.push('main')[0]
    uri = re.search(r'solum run for main queued: (\S+)', output).group(1)
    run = pushenv.wait_run(client, uri)
    assert run['status'] == 'SUCCESS', run
    (patch, _p, patch_token, source), (post, path, token, _b) = \
        trusts_env['receiver'].requests
    assert (patch, post, path) == ('PATCH', 'POST', '/v1/apps/app-1/workflows')
    assert re.match(r'^https://deploy-[0-9a-f]{12}:[^@]+@127\.0\.0\.1:\d+/pin/%s/web\.git$'
                    % sha, source['source']['repository'])
    assert token == patch_token
    # Keystone's own word on the token the workflow came with
    answer = ks.call('GET', '/auth/tokens', headers={'X-Subject-Token': token}).json()
    assert answer['token']['OS-TRUST:trust']['id'] == trust_id
    assert answer['token']['user']['id'] == alice.id  # impersonation: Solum sees alice
    assert answer['token']['project']['id'] == alice.project_id


def test_deleting_the_trigger_deletes_its_trust(trusts_env):
    ks, alice, client = trusts_env['keystone'], trusts_env['alice'], trusts_env['client']
    repo = trusts_env['repo']
    trigger = client.post(TRIGGERS % repo['uuid'], json={
        'type': 'solum', 'config': {'app_id': 'app-1'}}).json()
    trust_id = _trust_id(trusts_env['env'], trigger['uuid'])
    assert ks.get_trust(alice, trust_id) is not None
    tokens = '/v1/infrastructure/repos/%s/deploy_tokens' % repo['uuid']
    assert [t['permission'] for t in client.get(tokens).json()] == ['R']
    assert client.delete((TRIGGERS % repo['uuid']) + '/' + trigger['uuid']
                         ).status_code == 204
    assert ks.get_trust(alice, trust_id) is None
    assert client.get(tokens).json() == []  # its deploy token revoked with it


def test_the_apis_keystonemiddleware_takes_real_tokens_only(trusts_env):
    ks, client, repo = trusts_env['keystone'], trusts_env['client'], trusts_env['repo']
    url = client.url + '/v1/infrastructure/repos/' + repo['uuid']
    assert client.get(url).status_code == 200
    stranger = ks.make_user()
    other = TokenClient(client.url, ks.token(stranger), stranger.project_id, stranger.id)
    assert other.get(url).status_code == 404
    forged = TokenClient(client.url, 'not-a-token', client.project_id, client.user_id)
    assert forged.get(url).status_code == 401
    headers_only = helpers.Client(client.url, client.project_id, client.user_id)
    assert headers_only.get(url).status_code == 401
