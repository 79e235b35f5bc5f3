"""The input rules through the real API over HTTP, on SQLite, MariaDB and
PostgreSQL: git's ref name rules, trigger config shapes, webhook targets and
JSON bodies. Each refusal is a 400 naming the field and the rule, and writes
nothing.
"""
import json

import pytest
import requests
import sqlalchemy as sa

from solum_git.db import models
from tests.functional import test_api_hostile
from tests import helpers

R = '/v1/infrastructure/repos'
# a local trigger needs a command
LOCAL = {'test_cmd': 'true'}
BAD_BRANCHES = ['a.lock', 'HEAD', '@', '-x', 'a..b', 'a//b', 'a/', 'a.', '.a',
                'x/y.lock', 'a b', 'a~1', 'a^', 'a:b', 'a?', 'a*', 'a[b', 'a\\b',
                '@{-1}', 'a@{b', 'ünï', 'a{b}', '']


def _counts(root):
    with root.db.reader() as session:
        return tuple(session.execute(sa.select(sa.func.count()).select_from(m)).scalar()
                     for m in (models.Stack, models.Repo, models.Member, models.Trigger))


def _refused(resp, field):
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert body['faultcode'] == 'Client'
    assert body['faultstring'].startswith(field + ': must'), body['faultstring']
    return body['faultstring']


def _raw(client, path, data, method='POST'):
    return requests.request(method, client._url(path), data=data,
                            headers=dict(client.session.headers), timeout=30)


def test_default_branch_follows_gits_rules_on_create_and_update(api):
    c = helpers.Client(api.url, 'p1', 'u1')
    repo = c.post(R, {'name': 'app', 'default_branch': 'release/1.x'}).json()
    assert repo['default_branch'] == 'release/1.x'
    before = _counts(api.root)
    for branch in BAD_BRANCHES:
        rule = _refused(c.post(R, {'name': 'other', 'default_branch': branch}),
                        'default_branch')
        assert 'git branch name' in rule
        _refused(c.put(repo['uri'], {'default_branch': branch}), 'default_branch')
    assert _counts(api.root) == before
    assert c.get(repo['uri']).json()['default_branch'] == 'release/1.x'
    # what git and gitolite both take passes
    for branch in ('main', 'dev/a-b_c', 'v1.2+x', 'a@b', 'x%2=y,z'):
        r = c.put(repo['uri'], {'default_branch': branch})
        assert r.status_code == 200, r.text
        assert r.json()['default_branch'] == branch


def test_the_rules_say_which_one_was_broken(api):
    c = helpers.Client(api.url, 'p1', 'u1')
    for branch, words in (('a.lock', 'ending in ".lock"'), ('HEAD', 'not "HEAD"'),
                          ('-x', 'leading "-"'), ('a..b', 'no ".."')):
        assert words in _refused(c.post(R, {'name': 'x', 'default_branch': branch}),
                                 'default_branch')


def test_trigger_branches_must_be_able_to_name_a_branch(api):
    c = helpers.Client(api.url, 'p1', 'u1')
    repo = c.post(R, {'name': 'app'}).json()
    for glob in ['*.lock', 'HEAD', '.*', '*/', 'a[b', 'a{b,c}', '-*', 'a..*', '']:
        _refused(c.post(repo['triggers_uri'], {'type': 'local', 'branches': glob,
                                               'config': LOCAL}), 'branches')
    for glob in ['release/*', 'v[0-9]*', 'feature-?']:
        r = c.post(repo['triggers_uri'], {'type': 'local', 'branches': glob,
                                          'config': LOCAL})
        assert r.status_code == 201, r.text
    assert len(c.get(repo['triggers_uri']).json()) == 3


@pytest.mark.parametrize('config', [[], '', 0, False, 'x', [1], 1.5, ['test_cmd']])
def test_trigger_config_must_be_an_object(api, config):
    c = helpers.Client(api.url, 'p1', 'u1')
    repo = c.post(R, {'name': 'app'}).json()
    _refused(c.post(repo['triggers_uri'], {'type': 'local', 'config': config}), 'config')
    assert c.get(repo['triggers_uri']).json() == []


NON_PUBLIC_URLS = [
    'http://127.0.0.1:8080/', 'http://localhost/', 'http://[::1]/', 'http://10.0.0.1/',
    'http://192.168.1.1/', 'http://169.254.169.254/latest/meta-data/',
    'http://0.0.0.0/', 'http://224.0.0.1/', 'http://[::ffff:127.0.0.1]/',
    'http://2130706433/', 'http://0177.0.0.1/', 'http://0x7f000001/',
    'http://does-not-resolve.invalid/',
]


def test_webhook_urls_to_non_public_addresses_are_refused_at_creation(api):
    c = helpers.Client(api.url, 'p1', 'u1')
    repo = c.post(R, {'name': 'app'}).json()
    for url in NON_PUBLIC_URLS:
        rule = _refused(c.post(repo['triggers_uri'], {
            'type': 'webhook', 'config': {'url': url, 'secret': 's'}}), 'config.url')
        assert 'public address' in rule, rule
    assert c.get(repo['triggers_uri']).json() == []
    r = c.post(repo['triggers_uri'], {'type': 'webhook', 'config': {
        'url': 'https://93.184.216.34/hook', 'secret': 's'}})
    assert r.status_code == 201, r.text


def test_the_operator_may_allow_private_webhook_targets(make_root, db_url):
    root = make_root(db_url, pipelines={'webhook_allow_private': True})
    server = helpers.ThreadedApi(root).start()
    try:
        c = helpers.Client(server.url, 'p1', 'u1')
        repo = c.post(R, {'name': 'app'}).json()
        r = c.post(repo['triggers_uri'], {'type': 'webhook', 'config': {
            'url': 'http://127.0.0.1:8080/hook', 'secret': 's'}})
        assert r.status_code == 201, r.text
        # still only http(s)
        _refused(c.post(repo['triggers_uri'], {'type': 'webhook', 'config': {
            'url': 'file:///etc/passwd', 'secret': 's'}}), 'config.url')
    finally:
        server.stop()


def test_a_stranger_learns_nothing_about_a_webhook_target(api):
    """The address check comes after the access check (no DNS oracle for others)."""
    owner = helpers.Client(api.url, 'p1', 'u1')
    repo = owner.post(R, {'name': 'app'}).json()
    stranger = helpers.Client(api.url, 'p2', 'u2')
    r = stranger.post(repo['triggers_uri'], {'type': 'webhook', 'config': {
        'url': 'http://localhost/', 'secret': 's'}})
    assert r.status_code == 404, r.text


def test_hostile_json_bodies_are_400_with_the_rule(api):
    c = helpers.Client(api.url, 'p1', 'u1')
    repo = c.post(R, {'name': 'target'}).json()
    before = _counts(api.root)
    for data, words in test_api_hostile.HOSTILE_BODIES:
        for method, path in (('POST', R), ('PUT', repo['uri']),
                             ('POST', repo['triggers_uri']),
                             ('POST', '/v1/infrastructure/keys'),
                             ('PUT', repo['stack_uri']),
                             ('POST', '/v1/hooks/post-receive')):
            r = _raw(c, path, data, method)
            what = (method, path, data[:60], r.status_code, r.text[:300])
            assert r.status_code == 400, what
            fault = r.json()['faultstring']
            assert fault.startswith('body: ') and words in fault, what
    assert _counts(api.root) == before
    assert c.get(repo['uri']).json()['name'] == 'target'


def test_a_long_string_is_refused_by_its_field_rule_not_a_500(api):
    c = helpers.Client(api.url, 'p1', 'u1')
    big = 'x' * (900 * 1024)
    for body, field in (({'name': big}, 'name'),
                        ({'name': 'ok', 'description': big}, 'description'),
                        ({'name': 'ok', 'default_branch': big}, 'default_branch')):
        r = c.post(R, body)
        assert r.status_code == 400, r.text[:200]
        assert r.json()['faultstring'].startswith(field + ':')
    assert json.loads(c.get(R).text) == []


@pytest.mark.parametrize('length', ['-1', '+5', '1_0', ' 5', '0x10'])
def test_a_content_length_that_is_not_digits_is_400(api, length):
    import socket
    host, port = api.url.split('//')[1].split(':')
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(('POST %s HTTP/1.1\r\nHost: x\r\nX-Project-Id: p1\r\nX-User-Id: u1\r\n'
                   'Content-Length: %s\r\nConnection: close\r\n\r\n{"name": "cl"}'
                   % (R, length)).encode())
        status = s.recv(100).split(b'\r\n')[0]
    assert b' 400 ' in status, status
    assert _counts(api.root)[1] == 0


def test_a_solum_trigger_cannot_send_the_services_token_elsewhere(api):
    """[solum] auth_strategy = keystone (the default): the workflow request
    carries the service's token, so it only goes to [solum] url's host."""
    c = helpers.Client(api.url, 'p1', 'u1')
    repo = c.post(R, {'name': 'app'}).json()
    for url in ('https://attacker.example.com/', 'http://127.0.0.1:9778/'):
        rule = _refused(c.post(repo['triggers_uri'], {'type': 'solum', 'config': {
            'app_id': 'a1', 'solum_url': url}}), 'config.solum_url')
        assert 'Keystone token' in rule
    assert c.get(repo['triggers_uri']).json() == []
    for config in ({'app_id': 'a1'}, {'app_id': 'a1', 'solum_url': 'http://127.0.0.1:9777/'}):
        r = c.post(repo['triggers_uri'], {'type': 'solum', 'config': config})
        assert r.status_code == 201, r.text
