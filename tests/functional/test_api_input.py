"""Hostile and malformed input: clear 4xx naming the field, nothing written."""
import json

import pytest
import requests
import sqlalchemy as sa

from solum_git.db import models
from tests import helpers

R = '/v1/infrastructure/repos'


def _rows(api):
    with api.root.db.reader() as session:
        return tuple(session.execute(sa.select(sa.func.count()).select_from(m)).scalar()
                     for m in (models.Stack, models.Repo, models.Member, models.Key,
                               models.Trigger))


def _raw(client, method, path, data, headers=None):
    h = dict(client.session.headers)
    h.update(headers or {})
    return requests.request(method, client.url + path, data=data, headers=h, timeout=30)


@pytest.mark.parametrize('body,field', [
    ({'name': '../etc'}, 'name'),
    ({'name': 'gitolite-admin'}, 'name'),
    ({'name': 'CREATOR'}, 'name'),
    ({'name': 'x.git'}, 'name'),
    ({'name': 'app\n'}, 'name'),
    ({'name': 'a' * 101}, 'name'),
    ({'name': ''}, 'name'),
    ({}, 'name'),
    ({'name': 'ok', 'description': 'd' * 256}, 'description'),
    ({'name': 'ok', 'default_branch': 'ma in'}, 'default_branch'),
    ({'name': 'ok', 'default_branch': 'rel/*'}, 'default_branch'),
    ({'name': 5}, 'name'),
    ({'name': ['a']}, 'name'),
    ({'name': 'ok', 'uuid': 'mine'}, 'uuid'),
])
def test_bad_repo_bodies_are_400_naming_the_field(sqlite_api, alice, body, field):
    before = _rows(sqlite_api)
    r = alice.post(R, body)
    assert r.status_code == 400, r.text
    assert r.json()['faultcode'] == 'Client'
    assert field in r.json()['faultstring']
    assert _rows(sqlite_api) == before


@pytest.mark.parametrize('data', ['{"name":', 'not json', '[1,2', '"just a string"',
                                  '[]', 'null'])
def test_malformed_json_is_400(sqlite_api, alice, data):
    before = _rows(sqlite_api)
    r = _raw(alice, 'POST', R, data)
    assert r.status_code == 400, r.text
    assert r.json()['faultstring'].startswith('body: must be')
    assert r.headers['Content-Type'].startswith('application/json')
    assert _rows(sqlite_api) == before


def test_body_over_one_mib_is_413(sqlite_api, alice):
    body = json.dumps({'name': 'big', 'description': 'x' * (1024 * 1024)})
    r = _raw(alice, 'POST', R, body)
    assert r.status_code == 413
    assert r.json()['faultstring'].startswith('body:')
    assert r.json()['faultstring'] == 'body: must be at most 1048576 bytes'


def test_the_body_limit_is_oslo_middlewares_option(make_root, sqlite_url):
    root = make_root(sqlite_url, oslo_middleware={'max_request_body_size': 2048})
    server = helpers.ThreadedApi(root).start()
    try:
        client = helpers.Client(server.url, 'project-a', 'alice')
        r = client.post(R, {'name': 'big', 'description': 'x' * 2100})
        assert r.status_code == 413
        assert r.json() == {'faultcode': 'Client', 'debuginfo': None,
                            'faultstring': 'body: must be at most 2048 bytes'}
        assert _rows(server)[1] == 0
        assert client.post(R, {'name': 'small', 'description': 'x' * 200}
                           ).status_code == 201
    finally:
        server.stop()


def test_chunked_body_is_refused_with_411(sqlite_api, alice):
    def chunks():
        yield b'{"name": "big", "description": "'
        for _ in range(300):
            yield b'x' * 4096
        yield b'"}'
    r = _raw(alice, 'POST', R, chunks())
    assert r.status_code == 411
    assert _rows(sqlite_api)[1] == 0


@pytest.mark.parametrize('query,field', [
    ('limit=abc', 'limit'), ('limit=0', 'limit'), ('limit=-1', 'limit'),
    ('sort_key=project_id%3Bdrop', 'sort_key'), ('sort_key=hook_secret', 'sort_key'),
    ('sort_dir=up', 'sort_dir'), ('marker=00000000-0000-0000-0000-000000000000', 'marker'),
])
def test_bad_paging_is_400(alice, query, field):
    r = alice.get(R + '?' + query)
    assert r.status_code == 400, r.text
    assert field in r.json()['faultstring']


def test_huge_limit_is_capped(alice):
    assert alice.get(R + '?limit=100000').status_code == 200


@pytest.mark.parametrize('user,body,field', [
    ('a@b', {'permission': 'RW'}, 'user_id'),
    ('bob', {'permission': 'W'}, 'permission'),
    ('bob', {'permission': 'rw+'}, 'permission'),
    ('bob', {}, 'permission'),
    ('bob', {'permission': 1}, 'permission'),
])
def test_bad_member_input(alice, user, body, field):
    repo = alice.post(R, {'name': 'app'}).json()
    r = alice.put(repo['members_uri'] + '/' + user, body)
    assert r.status_code == 400, r.text
    assert field in r.json()['faultstring']
    assert len(alice.get(repo['members_uri']).json()) == 1


@pytest.mark.parametrize('body,field', [
    ({}, 'type'),
    ({'type': 'cron'}, 'type'),
    ({'type': 'local', 'branches': '../x'}, 'branches'),
    ({'type': 'local', 'config': {'evil': 1}}, 'config.evil'),
    ({'type': 'local', 'config': {'test_cmd': ''}}, 'config.test_cmd'),
    ({'type': 'local', 'config': 'x'}, 'config'),
    ({'type': 'local', 'config': {}}, 'config: a local trigger needs test_cmd or run_cmd'),
    ({'type': 'local', 'config': {'run_cmd': 'x', 'env': {'lower': 'v'}}},
     'config.env.lower: must match [A-Z_][A-Z0-9_]*'),
    ({'type': 'local', 'config': {'run_cmd': 'x', 'env': {'PORT': '1'}}},
     'config.env.PORT: is reserved'),
    ({'type': 'local', 'config': {'run_cmd': 'x', 'env': {'SOLUM_GIT_RUN': '1'}}},
     'config.env.SOLUM_GIT_RUN: is reserved'),
    ({'type': 'local', 'config': {'run_cmd': 'x', 'env': {'A': 'v' * 4097}}},
     'config.env.A: must be at most 4096 characters'),
    ({'type': 'local', 'config': {'run_cmd': 'x', 'env': {'A': 1}}},
     'config.env.A: must be a string'),
    ({'type': 'local', 'config': {'run_cmd': 'x', 'env': {
        'V%d' % i: 'v' for i in range(65)}}}, 'config.env: at most 64 variables'),
    ({'type': 'local', 'config': {'run_cmd': 'x', 'env': {'A': 'a'}, 'secrets': {
        'A': 'b'}}}, 'config.secrets.A: is in config.env too'),
    ({'type': 'local', 'config': {'run_cmd': 'x', 'health_path': 'health'}},
     'config.health_path: must be a URL path starting with /'),
    ({'type': 'local', 'config': {'run_cmd': 'x', 'health_timeout': 0}},
     'config.health_timeout: must be a number of seconds from 1 to 300'),
    ({'type': 'local', 'config': {'test_cmd': 'x', 'health_path': '/h'}},
     'config.health_path: checks the app: only with run_cmd'),
    ({'type': 'webhook', 'config': {'url': 'http://x'}}, 'config.secret'),
    ({'type': 'webhook', 'config': {'url': 'file:///etc/passwd', 'secret': 's'}},
     'config.url'),
    ({'type': 'solum', 'config': {}}, 'config.app_id'),
    ({'type': 'solum', 'config': {'app_id': 'a', 'actions': ['rm']}}, 'config.actions'),
])
def test_bad_trigger_input(alice, body, field):
    repo = alice.post(R, {'name': 'app'}).json()
    r = alice.post(repo['triggers_uri'], body)
    assert r.status_code == 400, r.text
    assert field in r.json()['faultstring']
    assert alice.get(repo['triggers_uri']).json() == []


def test_an_api_with_no_secrets_key_keeps_no_secret(make_root, sqlite_url):
    server = helpers.ThreadedApi(make_root(sqlite_url, secrets={'fernet_keys': []})).start()
    try:
        alice = helpers.Client(server.url, 'project-a', 'alice')
        repo = alice.post(R, {'name': 'app'}).json()
        r = alice.post(repo['triggers_uri'], {'type': 'local', 'config': {
            'run_cmd': 'x', 'secrets': {'TOKEN': 's'}}})
        assert r.status_code == 400, r.text
        assert r.json()['faultstring'].startswith(
            'config.secrets: this service has no key for secrets')
        assert alice.get(repo['triggers_uri']).json() == []
    finally:
        server.stop()


def test_webhook_secret_is_never_shown(alice):
    repo = alice.post(R, {'name': 'app'}).json()
    t = alice.post(repo['triggers_uri'], {'type': 'webhook', 'config': {
        'url': 'https://93.184.216.34/hook', 'secret': 's3cret'}})
    assert t.status_code == 201
    assert 's3cret' not in t.text
    assert 's3cret' not in alice.get(repo['triggers_uri']).text


def test_repo_rename_checks_the_name(alice):
    repo = alice.post(R, {'name': 'app'}).json()
    r = alice.put(repo['uri'], {'name': 'other.git'})
    assert r.status_code == 400 and r.json()['faultstring'].startswith('name:')
    r = alice.put(repo['uri'], {'name': 'app', 'description': 'same name is fine'})
    assert r.status_code == 200 and r.json()['description'] == 'same name is fine'


@pytest.mark.parametrize('path', ['/v1/nope', '/v1/infrastructure/nope',
                                  '/v1/infrastructure/repos/x/nope/y'])
def test_unknown_paths_are_json_404(alice, path):
    r = alice.get(path)
    assert r.status_code == 404
    assert 'faultstring' in r.json()


def test_dot_segments_refused(sqlite_api, alice):
    import http.client
    conn = http.client.HTTPConnection(sqlite_api.url.split('//')[1])
    conn.request('GET', '/v1/hooks/../infrastructure/repos')
    assert conn.getresponse().status == 400


def test_hostile_identity_header_is_401(sqlite_api):
    r = requests.get(sqlite_api.url + R, headers={'X-Project-Id': '../../etc',
                                                  'X-User-Id': 'u'})
    assert r.status_code == 401


@pytest.mark.parametrize('pub,rule', [
    ('-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----',
     'private key'),
    ('command="sh" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA', 'options'),
    ('garbage', 'OpenSSH public key'),
])
def test_bad_keys_are_400(sqlite_api, alice, pub, rule):
    before = _rows(sqlite_api)
    r = alice.post('/v1/infrastructure/keys', {'public_key': pub})
    assert r.status_code == 400
    assert r.json()['faultstring'].startswith('public_key:')
    assert rule in r.json()['faultstring']
    assert _rows(sqlite_api) == before
