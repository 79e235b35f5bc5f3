"""The real API over HTTP, a realistic conversation, every answer checked against
GET /v1/openapi.json (closed schemas: a field the document lacks fails)."""
import json
import os
import time

from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives import serialization
import pytest
import requests
import sqlalchemy as sa

from solum_git.common import applog
from solum_git.db import models
from tests import helpers
from tests import openapi_check

INFRA = '/v1/infrastructure'
S, R, K, RUN = (INFRA + '/stacks', INFRA + '/repos', INFRA + '/keys',
                INFRA + '/runs')
T = INFRA + '/tokens'


def _public_key():
    return ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()


class Conversation:
    """Calls by path template; each answer is validated, each request body too."""

    def __init__(self, api, doc):
        self.api = api
        self.checker = openapi_check.BodyChecker(doc)
        self.problems = []

    def call(self, who, method, template, status, body=None, raw=None, headers=None,
             **values):
        template, _, query = template.partition('?')
        path = template.format(**values) + ('?' + query if query else '')
        if status < 400:
            self.problems += self.checker.query_problems(method, template, query)
            if body is not None:
                self.problems += self.checker.request_problems(method, template, body)
        session = who.session if who is not None else requests.Session()
        url = self.api.url + path
        data = raw if raw is not None else (None if body is None else json.dumps(body))
        sent = dict(headers or {})
        if data is not None:
            sent.setdefault('Content-Type', 'application/json')
        r = session.request(method, url, data=data, headers=sent, timeout=30)
        assert r.status_code == status, '%s %s: %s %s' % (
            method, path, r.status_code, r.text)
        self.problems += self.checker.check(method, template, r)
        return r

    def hook(self, path, status, stack, event, nonce=None):
        raw = json.dumps(event).encode()
        headers = helpers.hook_headers(stack.hook_secret, stack.uuid, raw, nonce=nonce)
        if status < 400:
            self.problems += self.checker.request_problems('POST', path, event)
        return self.call(None, 'POST', path, status, raw=raw, headers=headers)


@pytest.fixture
def talk(api):
    doc = requests.get(api.url + '/v1/openapi.json', timeout=30)
    assert doc.status_code == 200
    assert doc.headers['Content-Type'].startswith('application/json')
    return Conversation(api, doc.json())


def _stack_row(api, project_id):
    with api.root.db.reader() as session:
        return session.execute(sa.select(models.Stack).where(
            models.Stack.project_id == project_id)).scalar_one()


def _finish_run(api, run_uuid):
    """What a worker leaves on a webhook run that delivered (the engine is off here)."""
    now = models.utcnow()
    delivery = {'attempt': 1, 'delivery_id': run_uuid, 'url': 'https://93.184.216.34/hook',
                'at': now.isoformat() + '+00:00', 'status_code': 200, 'error': None,
                'duration_ms': 12, 'response': 'ok'}
    with api.root.db.writer() as session:
        session.execute(sa.update(models.Run).where(models.Run.uuid == run_uuid).values(
            status='SUCCESS', status_reason='delivered (HTTP 200)', started_at=now,
            finished_at=now, attempts=1, deliveries=[delivery], log='built\nok\n',
            app_url='https://app.example'))


def _deployed(api, run_uuid):
    """What a worker leaves on a local run whose app took over: release 1, app.log."""
    now = models.utcnow()
    with api.root.db.writer() as session:
        session.execute(sa.update(models.Run).where(models.Run.uuid == run_uuid).values(
            status='SUCCESS', status_reason='deployed as release 1', started_at=now,
            finished_at=now, attempts=1, release=1, config_version=1,
            app_url='http://127.0.0.1:9/'))
    path = applog.path(api.root.conf.state_path, run_uuid)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write('listening\nGET / 200\n')


def test_every_answer_of_a_realistic_conversation_matches_the_document(api, talk):
    alice = helpers.Client(api.url, 'project-a', 'alice')
    bob = helpers.Client(api.url, 'project-a', 'bob')
    mallory = helpers.Client(api.url, 'project-m', 'mallory')
    admin = helpers.Client(api.url, 'admin-project', 'root-user', roles=['admin'])
    c = talk.call

    # discovery
    c(None, 'GET', '/', 200)
    c(None, 'GET', '/v1/openapi.json', 200)
    c(alice, 'GET', '/v1', 200)
    c(alice, 'GET', INFRA, 200)
    c(None, 'GET', R, 401)
    c(alice, 'GET', R + '?limit=0', 400)
    c(alice, 'GET', R + '?sort_key=hook_secret', 400)

    # a stack ahead of the first repo, then changed and resynced
    stack = c(alice, 'POST', S, 201, body={'name': 'git', 'tags': ['ci']}).json()
    c(alice, 'POST', S, 409, body={})
    c(alice, 'GET', S, 200)
    c(admin, 'GET', S + '?limit=1&sort_dir=asc', 200)
    c(alice, 'GET', S + '/{uuid}', 200, uuid=stack['uuid'])
    c(mallory, 'GET', S + '/{uuid}', 404, uuid=stack['uuid'])
    c(alice, 'PUT', S + '/{uuid}', 200, body={'description': 'ours'}, uuid=stack['uuid'])
    c(alice, 'POST', S + '/{stack_uuid}/actions', 202, body={'action': 'resync'},
      stack_uuid=stack['uuid'])
    c(alice, 'POST', S + '/{stack_uuid}/actions', 202, body={'action': 'restore'},
      stack_uuid=stack['uuid'])
    c(alice, 'POST', S + '/{stack_uuid}/actions', 400, body={'action': 'explode'},
      stack_uuid=stack['uuid'])

    # keys
    key = c(alice, 'POST', K, 201, body={'name': 'laptop',
                                         'public_key': _public_key()}).json()
    c(alice, 'POST', K, 409, body={'public_key': key['public_key']})
    c(alice, 'POST', K, 400, body={'public_key': 'ssh-dss AAAA'})
    c(alice, 'GET', K, 200)
    c(alice, 'GET', K + '/{uuid}', 200, uuid=key['uuid'])
    c(bob, 'GET', K + '/{uuid}', 404, uuid=key['uuid'])

    # repos
    repo = c(alice, 'POST', R, 201, body={'name': 'app', 'description': 'the app',
                                          'default_branch': 'main'}).json()
    c(alice, 'POST', R, 201, body={'name': 'docs'})
    c(alice, 'POST', R, 409, body={'name': 'app'})
    c(alice, 'POST', R, 400, body={'name': 'app.git'})
    c(alice, 'POST', R, 400, body={'name': 'x', 'colour': 'red'})
    c(alice, 'POST', R, 400, raw='[1, 2]')
    c(alice, 'POST', R, 413, raw=json.dumps({'name': 'big', 'description':
                                             'x' * (1024 * 1024)}))
    c(alice, 'POST', R, 411, raw=(b'{"name": "chunked"}' for _ in range(1)))
    page = c(alice, 'GET', R + '?limit=1', 200)
    assert 'rel="next"' in page.headers['Link']
    c(alice, 'GET', R + '?name=app', 200)
    c(alice, 'GET', R + '?marker=nope', 400)
    c(alice, 'GET', R + '/{uuid}', 200, uuid=repo['uuid'])
    c(alice, 'PUT', R + '/{uuid}', 200, body={'description': 'still the app'},
      uuid=repo['uuid'])
    c(alice, 'PUT', R + '/{uuid}', 200, body={'name': 'renamed'}, uuid=repo['uuid'])
    c(alice, 'PUT', R + '/{uuid}', 409, body={'name': 'docs'}, uuid=repo['uuid'])
    c(alice, 'PUT', R + '/{uuid}', 400, body={'name': 'app.git'}, uuid=repo['uuid'])
    c(alice, 'PUT', R + '/{uuid}', 200, body={'name': 'app'}, uuid=repo['uuid'])
    c(mallory, 'GET', R + '/{uuid}', 404, uuid=repo['uuid'])
    c(alice, 'DELETE', S + '/{uuid}', 409, uuid=stack['uuid'])

    # members
    m = R + '/{repo_uuid}/members'
    c(alice, 'PUT', m + '/{user_id}', 200, body={'permission': 'RW'},
      repo_uuid=repo['uuid'], user_id='bob')
    c(alice, 'PUT', m + '/{user_id}', 400, body={'permission': 'RWX'},
      repo_uuid=repo['uuid'], user_id='bob')
    c(bob, 'PUT', m + '/{user_id}', 403, body={'permission': 'R'},
      repo_uuid=repo['uuid'], user_id='carol')
    c(alice, 'GET', m, 200, repo_uuid=repo['uuid'])
    c(alice, 'GET', m + '/{user_id}', 200, repo_uuid=repo['uuid'], user_id='bob')
    c(alice, 'DELETE', m + '/{user_id}', 409, repo_uuid=repo['uuid'], user_id='alice')
    c(alice, 'DELETE', m + '/{user_id}', 204, repo_uuid=repo['uuid'], user_id='bob')

    # triggers
    t = R + '/{repo_uuid}/triggers'
    c(alice, 'POST', t, 201, body={'type': 'local', 'branches': 'main',
                                   'config': {'test_cmd': 'make test'}},
      repo_uuid=repo['uuid'])
    hooked = c(alice, 'POST', t, 201, body={
        'type': 'webhook', 'branches': 'release/*',
        'config': {'url': 'https://93.184.216.34/hook', 'secret': 's3cret'}},
        repo_uuid=repo['uuid']).json()
    assert hooked['config']['secret'] == '***'
    c(alice, 'POST', t, 400, body={'type': 'webhook', 'config': {'url': 'ftp://x'}},
      repo_uuid=repo['uuid'])
    c(alice, 'GET', t, 200, repo_uuid=repo['uuid'])
    local = next(x for x in c(alice, 'GET', t, 200, repo_uuid=repo['uuid']).json()
                 if x['type'] == 'local')
    c(alice, 'PUT', t + '/{uuid}', 200, body={'config': {'env': {'STAGE': 'test'}}},
      repo_uuid=repo['uuid'], uuid=local['uuid'])
    c(alice, 'PUT', t + '/{uuid}', 400, body={'config': {'test_cmd': None}},
      repo_uuid=repo['uuid'], uuid=local['uuid'])
    c(alice, 'GET', t + '/{uuid}', 200, repo_uuid=repo['uuid'], uuid=hooked['uuid'])

    # credentials for git over HTTP and SSH
    dt = R + '/{repo_uuid}/deploy_tokens'
    made = c(alice, 'POST', dt, 201, body={'name': 'ci', 'permission': 'RW',
                                           'expires_at': '2999-01-01T00:00:00'},
             repo_uuid=repo['uuid']).json()
    assert made['token'] and made['clone_url']
    c(alice, 'POST', dt, 400, body={'name': 'ci', 'permission': 'RW+'},
      repo_uuid=repo['uuid'])
    c(bob, 'POST', dt, 403, body={'name': 'mine'}, repo_uuid=repo['uuid'])
    c(alice, 'GET', dt, 200, repo_uuid=repo['uuid'])
    c(alice, 'DELETE', dt + '/{uuid}', 204, repo_uuid=repo['uuid'], uuid=made['uuid'])
    tok = c(alice, 'POST', T, 201, body={'name': 'laptop'}).json()
    c(alice, 'GET', T, 200)
    c(bob, 'DELETE', T + '/{uuid}', 404, uuid=tok['uuid'])
    c(alice, 'DELETE', T + '/{uuid}', 204, uuid=tok['uuid'])
    dk = R + '/{repo_uuid}/deploy_keys'
    deploy_key = c(alice, 'POST', dk, 201, body={'public_key': _public_key()},
                   repo_uuid=repo['uuid']).json()
    c(alice, 'POST', dk, 409, body={'public_key': deploy_key['public_key']},
      repo_uuid=repo['uuid'])
    c(alice, 'GET', dk, 200, repo_uuid=repo['uuid'])
    c(alice, 'DELETE', dk + '/{uuid}', 204, repo_uuid=repo['uuid'],
      uuid=deploy_key['uuid'])

    # protected branches and quotas
    pb = R + '/{repo_uuid}/protected_branches'
    c(alice, 'PUT', pb + '/{pattern}', 200, body={'push': 'RW', 'allow_delete': True},
      repo_uuid=repo['uuid'], pattern='release%2F%2A')
    c(alice, 'PUT', pb + '/{pattern}', 400, body={'push': 'R'},
      repo_uuid=repo['uuid'], pattern='main')
    c(bob, 'PUT', pb + '/{pattern}', 403, body={}, repo_uuid=repo['uuid'], pattern='main')
    c(alice, 'GET', pb, 200, repo_uuid=repo['uuid'])
    c(alice, 'GET', pb + '/{pattern}', 200, repo_uuid=repo['uuid'],
      pattern='release%2F%2A')
    c(alice, 'DELETE', pb + '/{pattern}', 204, repo_uuid=repo['uuid'],
      pattern='release%2F%2A')
    q = '/v1/infrastructure/quotas/{project_id}'
    c(alice, 'GET', q, 200, project_id='project-a')
    c(alice, 'PUT', q, 403, body={'repos': 5}, project_id='project-a')
    c(admin, 'PUT', q, 200, body={'repos': 50, 'repo_size_mb': None},
      project_id='project-a')
    c(admin, 'PUT', q, 400, body={'repos': -5}, project_id='project-a')

    # the git server's signed callbacks
    row = _stack_row(api, 'project-a')
    event = {'push_id': os.urandom(8).hex(), 'stack_id': row.uuid, 'repo': 'app',
             'pusher': 'u-alice', 'pushed_at': int(time.time()), 'size_bytes': 4096,
             'refs': [
                 {'ref': 'refs/heads/main', 'old': '0' * 40, 'new': 'b' * 40},
                 {'ref': 'refs/heads/release/1', 'old': 'a' * 40, 'new': 'c' * 40}]}
    nonce = os.urandom(16).hex()
    hook = talk.hook
    pushed = hook('/v1/hooks/post-receive', 201, row, event, nonce=nonce).json()
    assert len(pushed['runs']) == 2
    assert hook('/v1/hooks/post-receive', 200, row, event).json()['duplicate']
    hook('/v1/hooks/post-receive', 403, row, event, nonce=nonce)
    talk.call(None, 'POST', '/v1/hooks/post-receive', 401, raw=json.dumps(event))
    hook('/v1/hooks/post-receive', 400, row, dict(event, push_id='short'))
    ghost = dict(event, push_id=os.urandom(8).hex(), repo='ghost')
    hook('/v1/hooks/post-receive', 404, row, ghost)
    webhook_run = next(r for r in pushed['runs'] if r['type'] == 'webhook')
    hook('/v1/hooks/run-log', 200, row, {'run': webhook_run['uuid'], 'offset': 0})
    hook('/v1/hooks/run-log', 404, row, {'run': 'nope', 'offset': 0})

    # pushes and runs, before and after a worker's turn
    p = R + '/{repo_uuid}/pushes'
    c(alice, 'GET', p, 200, repo_uuid=repo['uuid'])
    c(alice, 'GET', p + '?sort_key=pushed_at&limit=5', 200, repo_uuid=repo['uuid'])
    c(alice, 'GET', p + '/{uuid}', 200, repo_uuid=repo['uuid'],
      uuid=pushed['push']['uuid'])
    c(alice, 'GET', RUN + '/{uuid}', 200, uuid=webhook_run['uuid'])
    c(alice, 'GET', R + '/{repo_uuid}/backups?limit=5', 200, repo_uuid=repo['uuid'])
    c(alice, 'GET', R + '/{repo_uuid}/backups', 404, repo_uuid='nope')
    c(alice, 'GET', RUN + '/{run_uuid}/log', 204, run_uuid=webhook_run['uuid'])
    c(alice, 'POST', RUN + '/{run_uuid}/actions', 409, body={'action': 'redeliver'},
      run_uuid=webhook_run['uuid'])
    _finish_run(api, webhook_run['uuid'])
    local_run = next(r for r in pushed['runs'] if r['type'] == 'local')
    c(alice, 'GET', RUN + '/{run_uuid}/app-log', 404, run_uuid=local_run['uuid'])
    c(alice, 'POST', RUN + '/{run_uuid}/actions', 409, body={'action': 'rollback'},
      run_uuid=local_run['uuid'])
    _deployed(api, local_run['uuid'])
    c(alice, 'GET', RUN + '/{run_uuid}/app-log?tail=1', 200, run_uuid=local_run['uuid'])
    c(mallory, 'GET', RUN + '/{run_uuid}/app-log', 404, run_uuid=local_run['uuid'])
    c(alice, 'GET', R + '/{repo_uuid}/releases', 200, repo_uuid=repo['uuid'])
    c(alice, 'GET', RUN + '/{uuid}', 200, uuid=webhook_run['uuid'])
    c(alice, 'GET', p + '/{uuid}', 200, repo_uuid=repo['uuid'],
      uuid=pushed['push']['uuid'])
    log = c(alice, 'GET', RUN + '/{run_uuid}/log', 200, run_uuid=webhook_run['uuid'])
    assert log.text == 'built\nok\n' and log.headers['X-Run-Status'] == 'SUCCESS'
    hook('/v1/hooks/run-log', 200, row, {'run': webhook_run['uuid'], 'offset': 3})
    c(bob, 'POST', RUN + '/{run_uuid}/actions', 403, body={'action': 'redeliver'},
      run_uuid=webhook_run['uuid'])
    c(alice, 'POST', RUN + '/{run_uuid}/actions', 202, body={'action': 'redeliver'},
      run_uuid=webhook_run['uuid'])
    c(mallory, 'GET', RUN + '/{uuid}', 404, uuid=webhook_run['uuid'])

    # the audit trail
    E = '/v1/infrastructure/events'
    trail = c(alice, 'GET', E + '?limit=2', 200)
    assert 'rel="next"' in trail.headers['Link']
    c(alice, 'GET', E + '?resource_uuid=%s&action=repo.rename&outcome=success'
      '&since=2000-01-01T00:00:00Z&sort_dir=asc' % repo['uuid'], 200)
    c(admin, 'GET', E + '?sort_key=at', 200)
    c(alice, 'GET', E + '?action=repo.move', 400)

    # and away
    c(alice, 'DELETE', t + '/{uuid}', 204, repo_uuid=repo['uuid'], uuid=hooked['uuid'])
    c(alice, 'DELETE', K + '/{uuid}', 204, uuid=key['uuid'])
    for name in ('app', 'docs'):
        found = c(alice, 'GET', R + '?name=' + name, 200).json()
        c(alice, 'DELETE', R + '/{uuid}', 204, uuid=found[0]['uuid'])
    c(alice, 'DELETE', S + '/{uuid}', 204, uuid=stack['uuid'])

    assert talk.problems == []
    seen = {(m, p, s) for m, p, s in talk.checker.seen}
    documented = {(m.upper(), path, int(s))
                  for path, item in talk.checker.doc['paths'].items()
                  for m, op in item.items() for s in op['responses'] if int(s) < 400}
    assert documented - seen == set(), 'answers the conversation never saw'
    faults = {s for _, _, s in seen if s >= 400}
    assert faults == {400, 401, 403, 404, 409, 411, 413}


def test_a_field_the_document_lacks_fails_the_check(sqlite_api):
    """The checker itself: an answer with one undocumented field is refused."""
    doc = requests.get(sqlite_api.url + '/v1/openapi.json', timeout=30).json()
    del doc['components']['schemas']['Infrastructure']['properties']['runs_uri']
    checker = openapi_check.BodyChecker(doc)
    alice = helpers.Client(sqlite_api.url, 'project-a', 'alice')
    problems = checker.check('GET', INFRA, alice.get(INFRA))
    assert problems == ["GET /v1/infrastructure 200: Additional properties are not "
                        "allowed ('runs_uri' was unexpected) at ."]
