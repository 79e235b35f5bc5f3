"""auth_strategy = keystone: keystonemiddleware's auth_token in front of the API."""
from keystonemiddleware import fixture as ks_fixture
import pytest
import requests

from tests import helpers

R = '/v1/infrastructure/repos'


@pytest.fixture
def keystone_api(make_root, sqlite_url):
    auth = ks_fixture.AuthTokenFixture()
    auth.setUp()
    root = make_root(sqlite_url, api={'auth_strategy': 'keystone'})
    from keystonemiddleware.auth_token import _opts
    root.conf.register_opts(_opts._OPTS, group='keystone_authtoken')
    # where a client is told to get a token (the 401's WWW-Authenticate)
    root.conf.set_override('www_authenticate_uri', 'http://keystone.invalid:5000/v3',
                           group='keystone_authtoken')
    server = helpers.ThreadedApi(root).start()
    tokens = {}
    for name, project, roles in (('alice', 'proj-a', ['member']),
                                 ('mallory', 'proj-m', ['member']),
                                 ('root', 'proj-x', ['admin'])):
        tokens[name] = 'token-%s' % name
        auth.add_token_data(token_id=tokens[name], user_id='%s-id' % name,
                            project_id=project, role_list=roles)
    yield server, tokens
    server.stop()
    auth.cleanUp()


def _get(server, path, token=None, **headers):
    if token:
        headers['X-Auth-Token'] = token
    return requests.get(server.url + path, headers=headers, timeout=30)


def _post(server, path, body, token):
    return requests.post(server.url + path, json=body, timeout=30,
                         headers={'X-Auth-Token': token})


def test_no_token_is_401_and_noauth_headers_do_not_help(keystone_api):
    server, _ = keystone_api
    r = _get(server, R)
    assert r.status_code == 401
    assert 'faultstring' in r.json()
    assert 'keystone.invalid' in r.headers['WWW-Authenticate']
    r = _get(server, R, **{'X-Project-Id': 'proj-a', 'X-User-Id': 'alice-id'})
    assert r.status_code == 401


def test_bad_token_is_401(keystone_api):
    server, _ = keystone_api
    assert _get(server, R, token='not-a-token').status_code == 401


def test_token_identity_is_used_and_projects_are_isolated(keystone_api):
    server, tokens = keystone_api
    r = _post(server, R, {'name': 'app'}, tokens['alice'])
    assert r.status_code == 201, r.text
    repo = r.json()
    assert repo['project_id'] == 'proj-a' and repo['user_id'] == 'alice-id'
    assert _get(server, '/v1/infrastructure/repos/' + repo['uuid'],
                tokens['mallory']).status_code == 404
    assert _get(server, R, tokens['mallory']).json() == []
    # a spoofed header does not change who the token says you are
    r = _get(server, R, tokens['mallory'], **{'X-Project-Id': 'proj-a'})
    assert r.json() == []
    assert [x['name'] for x in _get(server, R, tokens['root']).json()] == ['app']


def test_version_document_needs_no_token(keystone_api):
    server, _ = keystone_api
    assert _get(server, '/').status_code == 200


def test_openapi_document_needs_no_token_and_names_keystone(keystone_api):
    server, _ = keystone_api
    r = _get(server, '/v1/openapi.json')
    assert r.status_code == 200 and r.headers['Content-Type'].startswith(
        'application/json')
    doc = r.json()
    assert doc['security'] == [{'KeystoneToken': []}]
    assert doc['components']['securitySchemes']['KeystoneToken']['name'] == 'X-Auth-Token'
    # only that exact path is open: its neighbours still need a token
    for path in ('/v1/openapi.json/', '/v1/openapi.jsonx', '/v1/openapi.json/x', '/v1'):
        assert _get(server, path).status_code == 401, path
