"""Request ids (oslo.middleware request_id, oslo.context): every answer carries ours;
a caller's id is only ever the global one; the API's log lines carry both."""
import json
import re
import uuid

from oslo_context import context
import pytest
import requests
import webob

from tests import helpers

R = '/v1/infrastructure/repos'
OURS = re.compile(r'^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')
NOAUTH = {'X-Project-Id': 'p1', 'X-User-Id': 'u1'}
# fixed (xdist workers must collect the same parameters)
A_UUID = '0b0e8e4c-5d1a-4f4e-9a51-3c2f7d9e6a10'


def _answers(url):
    """One request of each kind of answer: success, our faults, the library's 413,
    Pecan's 404/405, the open and the signed paths."""
    big = json.dumps({'name': 'big', 'description': 'x' * (1024 * 1024)})
    calls = [('GET', R, NOAUTH, None, 200), ('POST', R, NOAUTH, '{"name": "app"}', 201),
             ('GET', R, {}, None, 401), ('POST', R, NOAUTH, 'not json', 400),
             ('POST', R, NOAUTH, big, 413), ('GET', R + '/nope', NOAUTH, None, 404),
             ('PATCH', R, NOAUTH, None, 405), ('GET', '/', {}, None, 200),
             ('GET', '/v1/openapi.json', {}, None, 200),
             ('POST', '/v1/hooks/post-receive', {}, '{}', 401),
             ('POST', R, NOAUTH, (b'{}' for _ in range(1)), 411)]
    for method, path, headers, data, status in calls:
        r = requests.request(method, url + path, headers=headers, data=data, timeout=30)
        assert r.status_code == status, (method, path, r.text[:200])
        yield r


def test_every_answer_carries_a_request_id_of_its_own(sqlite_api):
    ids = [r.headers.get('X-OpenStack-Request-Id') for r in _answers(sqlite_api.url)]
    assert all(OURS.match(i or '') for i in ids), ids
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize('sent', ['req-' + A_UUID, 'my-own-id', 'req-x' * 40])
def test_a_callers_id_is_never_ours(sqlite_api, sent):
    r = requests.get(sqlite_api.url + R, timeout=30,
                     headers=dict(NOAUTH, **{'X-OpenStack-Request-Id': sent}))
    assert r.status_code == 200
    assert r.headers['X-OpenStack-Request-Id'] != sent
    assert OURS.match(r.headers['X-OpenStack-Request-Id'])


def _context_of(app, headers):
    """The request's oslo.context context: the current one of the thread that served it."""
    response = webob.Request.blank(R, headers=headers).get_response(app)
    assert response.status_int == 200
    current = context.get_current()
    assert current is not None and current.user_id == 'u1'
    return response, current


def test_a_well_formed_callers_id_becomes_the_global_request_id(make_root, sqlite_url):
    app = make_root(sqlite_url).wsgi_app()
    sent = 'req-%s' % uuid.uuid4()
    response, current = _context_of(app, dict(NOAUTH, **{'X-OpenStack-Request-Id': sent}))
    assert current.global_request_id == sent
    assert current.request_id == response.headers['X-OpenStack-Request-Id'] != sent


@pytest.mark.parametrize('sent', ['my-own-id', 'REQ-' + A_UUID, 'req-' + A_UUID.upper(),
                                  'req-%s-more' % A_UUID, ''])
def test_an_ill_formed_callers_id_is_dropped(make_root, sqlite_url, sent):
    app = make_root(sqlite_url).wsgi_app()
    response, current = _context_of(app, dict(NOAUTH, **{'X-OpenStack-Request-Id': sent}))
    assert current.global_request_id is None
    assert current.request_id == response.headers['X-OpenStack-Request-Id']


def test_the_api_log_lines_carry_the_request_ids(tmp_path, sqlite_url):
    """oslo.log's context format: ``[global_request_id request_id user ...]``."""
    api = helpers.ApiProcess(tmp_path, sqlite_url, extra={'DEFAULT': {'debug': 'true'}})
    api.manage('db', 'upgrade')
    api.start()
    try:
        sent = 'req-%s' % uuid.uuid4()
        r = requests.get(api.url + R, timeout=30,
                         headers=dict(NOAUTH, **{'X-OpenStack-Request-Id': sent}))
        ours = r.headers['X-OpenStack-Request-Id']
        plain = requests.get(api.url + R, headers=NOAUTH, timeout=30)
        plain_id = plain.headers['X-OpenStack-Request-Id']
    finally:
        api.stop()
    lines = api.log_path.read_text().splitlines()
    # the access line of each request, written by the thread that served it
    assert any('[%s %s u1 p1' % (sent, ours) in line and 'GET %s' % R in line
               for line in lines), lines[-10:]
    assert any('[None %s u1 p1' % plain_id in line for line in lines), lines[-10:]
