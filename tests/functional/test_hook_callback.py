"""POST /v1/hooks/post-receive over real HTTP: signed, replay-proof, idempotent."""
import concurrent.futures
import json
import time

import pytest
import requests
import sqlalchemy as sa

from solum_git.db import models
from solum_git.hook import main as hook
from tests.functional import pushenv
from tests import helpers

SHA_A, SHA_B = 'a' * 40, 'b' * 40


_sign = helpers.hook_headers


def _event(stack_uuid, repo='app', push_id=None, refs=None, **extra):
    event = {'push_id': push_id or hook.os.urandom(16).hex(), 'stack_id': stack_uuid,
             'repo': repo, 'pusher': 'u-alice', 'pushed_at': int(time.time()),
             'refs': refs or [{'ref': 'refs/heads/main', 'old': SHA_A, 'new': SHA_B}]}
    event.update(extra)
    return json.dumps(event).encode()


class Callback:
    def __init__(self, env):
        self.env = env
        self.url = env.api.url + '/v1/hooks/post-receive'
        self.a = env.client('project-a', 'alice')
        self.b = env.client('project-b', 'bob')
        self.repo_a = self.a.post('/v1/infrastructure/repos', json={'name': 'app'}).json()
        self.repo_b = self.b.post('/v1/infrastructure/repos', json={'name': 'other'}).json()
        assert self.a.post('/v1/infrastructure/repos/%s/triggers' % self.repo_a['uuid'],
                           json={'type': 'local', 'branches': 'main',
                                 'config': {'test_cmd': 'true'}}).status_code == 201
        self.stack_a = env.stack_row('project-a')
        self.stack_b = env.stack_row('project-b')

    def post(self, body, headers):
        return requests.post(self.url, data=body, headers=headers, timeout=30)

    def signed(self, body, stack=None, **kw):
        stack = stack or self.stack_a
        return self.post(body, _sign(stack.hook_secret, stack.uuid, body, **kw))

    def counts(self):
        with self.env.db.reader() as session:
            return tuple(session.execute(sa.select(sa.func.count()).select_from(m)).scalar()
                         for m in (models.Push, models.Run))


@pytest.fixture
def callback(tmp_path, db_url):
    env = pushenv.PushEnv(tmp_path, db_url, workers=()).start(engine=False)
    try:
        yield Callback(env)
    finally:
        env.stop()


@pytest.fixture
def sqlite_callback(tmp_path, sqlite_url):
    env = pushenv.PushEnv(tmp_path, sqlite_url, workers=()).start(engine=False)
    try:
        yield Callback(env)
    finally:
        env.stop()


def test_forged_stale_and_replayed_callbacks_change_nothing(callback):
    a, b = callback.stack_a, callback.stack_b
    body = _event(a.uuid)
    good = _sign(a.hook_secret, a.uuid, body)
    refused = {
        'unsigned': callback.post(body, {'Content-Type': 'application/json'}),
        'wrong secret': callback.post(body, _sign('0' * 64, a.uuid, body)),
        'other stack secret': callback.post(body, _sign(b.hook_secret, a.uuid, body)),
        'unknown stack': callback.post(body, _sign(a.hook_secret, '0' * 36, body)),
        'body changed after signing': callback.post(body.replace(b'app', b'apq'), good),
        'stale': callback.signed(body, timestamp=time.time() - 400),
        'from the future': callback.signed(body, timestamp=time.time() + 400),
        'user headers instead': callback.post(body, dict(
            callback.a.session.headers, **{'X-Roles': 'admin'})),
    }
    for header in ('X-Solum-Git-Stack', 'X-Solum-Git-Timestamp', 'X-Solum-Git-Nonce',
                   'X-Solum-Git-Signature'):
        partial = dict(good)
        del partial[header]
        refused['without ' + header] = callback.post(body, partial)
    for case, resp in refused.items():
        assert resp.status_code == 401, (case, resp.status_code, resp.text)
        assert resp.json()['faultstring'], case
    assert callback.counts() == (0, 0)
    assert 'X-Solum-Git-Signature' in refused['wrong secret'].json()['faultstring']
    assert 'X-Solum-Git-Timestamp' in refused['stale'].json()['faultstring']

    first = callback.post(body, good)
    assert first.status_code == 201, first.text
    replay = callback.post(body, good)
    assert replay.status_code == 403
    assert 'replay' in replay.json()['faultstring']
    assert callback.counts() == (1, 1)

    # stack B's own valid signature cannot record into stack A's repo
    cross = callback.signed(_event(b.uuid, repo='app'), stack=b)
    assert cross.status_code == 404
    mislabeled = callback.signed(_event(a.uuid, repo='other'), stack=b)
    assert mislabeled.status_code == 400
    assert mislabeled.json()['faultstring'].startswith('stack_id:')
    assert callback.counts() == (1, 1)


def test_a_retried_callback_records_the_push_once(callback):
    body = _event(callback.stack_a.uuid)
    answers = [callback.signed(body) for _ in range(3)]
    assert [r.status_code for r in answers] == [201, 200, 200]
    assert [r.json()['duplicate'] for r in answers] == [False, True, True]
    assert len({r.json()['push']['uuid'] for r in answers}) == 1
    assert len({r.json()['runs'][0]['uuid'] for r in answers}) == 1
    assert callback.counts() == (1, 1)


def test_doubled_callbacks_at_the_same_moment_record_once(callback):
    body = _event(callback.stack_a.uuid)
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: callback.signed(body), range(8)))
    codes = sorted(r.status_code for r in answers)
    assert codes == [200] * 7 + [201], [r.text for r in answers]
    assert len({r.json()['push']['uuid'] for r in answers}) == 1
    assert callback.counts() == (1, 1)


@pytest.mark.parametrize('change, field', [
    ({'push_id': 'x'}, 'push_id'),
    ({'push_id': '../../etc/passwd'}, 'push_id'),
    ({'repo': '../app'}, 'repo'),
    ({'pusher': 'a b'}, 'pusher'),
    ({'pushed_at': 'yesterday'}, 'pushed_at'),
    ({'pushed_at': 2 ** 40}, 'pushed_at'),
    ({'refs': []}, 'refs'),
    ({'refs': 'refs/heads/main'}, 'refs'),
    ({'refs': [{'ref': 'refs/heads/main', 'old': SHA_A, 'new': 'HEAD'}]}, 'refs[0].new'),
    ({'refs': [{'ref': 'heads/main', 'old': SHA_A, 'new': SHA_B}]}, 'refs[0].ref'),
    ({'refs': [{'ref': 'refs/heads/a\nb', 'old': SHA_A, 'new': SHA_B}]}, 'refs[0].ref'),
    ({'refs': [{'ref': 'refs/heads/x', 'old': SHA_A, 'new': SHA_B}] * 1001}, 'refs'),
])
def test_malformed_events_are_400_naming_the_field(sqlite_callback, change, field):
    stack = sqlite_callback.stack_a
    event = json.loads(_event(stack.uuid))
    event.update(change)
    resp = sqlite_callback.signed(json.dumps(event).encode())
    assert resp.status_code == 400, resp.text
    assert resp.json()['faultstring'].startswith(field + ':'), resp.text
    assert sqlite_callback.counts() == (0, 0)


def test_only_updated_branches_matching_a_trigger_start_runs(sqlite_callback):
    cb = sqlite_callback
    repo = cb.repo_a['uuid']
    cb.a.post('/v1/infrastructure/repos/%s/triggers' % repo, json={
        'type': 'webhook', 'branches': 'release/*',
        'config': {'url': 'http://93.184.216.34/hook', 'secret': 's'}})
    refs = [{'ref': 'refs/tags/v1', 'old': pushenv.ZERO, 'new': SHA_B},
            {'ref': 'refs/heads/main', 'old': SHA_A, 'new': pushenv.ZERO},
            {'ref': 'refs/heads/release/1.0', 'old': SHA_A, 'new': SHA_B},
            {'ref': 'refs/heads/release/2.0', 'old': SHA_A, 'new': SHA_B}]
    answer = cb.signed(_event(cb.stack_a.uuid, refs=refs)).json()
    assert [(r['type'], r['ref']) for r in answer['runs']] == [
        ('webhook', 'refs/heads/release/1.0')]
    none = cb.signed(_event(cb.stack_a.uuid, refs=[
        {'ref': 'refs/heads/feature', 'old': SHA_A, 'new': SHA_B}])).json()
    assert none['runs'] == []
    assert none['messages'] == ['no trigger of this repo matches the pushed branches']
    push = cb.a.get(none['push']['uri']).json()
    assert push['refs'] == [{'ref': 'refs/heads/feature', 'old': SHA_A, 'new': SHA_B}]
    assert push['pusher'] == 'alice', 'gitolite\'s u-alice is solum user alice'


def test_pushes_and_runs_are_hidden_from_other_projects(sqlite_callback):
    cb = sqlite_callback
    answer = cb.signed(_event(cb.stack_a.uuid)).json()
    run_uri, push_uri = answer['runs'][0]['uri'], answer['push']['uri']
    assert cb.a.get(run_uri).status_code == 200
    for uri in (run_uri, run_uri + '/log', push_uri,
                '/v1/infrastructure/repos/%s/pushes' % cb.repo_a['uuid']):
        assert cb.b.get(uri).status_code == 404, uri
    redeliver = cb.b.post(run_uri + '/actions', json={'action': 'redeliver'})
    assert redeliver.status_code == 404
    # a queued run cannot be redelivered; an unknown action is named
    assert cb.a.post(run_uri + '/actions', json={'action': 'redeliver'}).status_code == 409
    bad = cb.a.post(run_uri + '/actions', json={'action': 'explode'})
    assert bad.status_code == 400 and bad.json()['faultstring'].startswith('action:')


def test_the_run_log_for_the_hook_is_signed_and_limited_to_its_stack(sqlite_callback):
    cb = sqlite_callback
    answer = cb.signed(_event(cb.stack_a.uuid)).json()
    url = cb.env.api.url + '/v1/hooks/run-log'
    body = json.dumps({'run': answer['runs'][0]['uuid'], 'offset': 0}).encode()
    a, b = cb.stack_a, cb.stack_b
    ok = requests.post(url, data=body, headers=_sign(a.hook_secret, a.uuid, body))
    assert ok.status_code == 200 and ok.json()['status'] == 'QUEUED', ok.text
    assert ok.json()['offset'] == 0 and ok.json()['log'] == ''
    assert requests.post(url, data=body, headers=_sign(b.hook_secret, a.uuid, body)
                         ).status_code == 401
    assert requests.post(url, data=body, headers=_sign(b.hook_secret, b.uuid, body)
                         ).status_code == 404
    assert requests.post(url, data=body, headers={'Content-Type': 'application/json'}
                         ).status_code == 401
    bad = json.dumps({'run': 'x', 'offset': -1}).encode()
    resp = requests.post(url, data=bad, headers=_sign(a.hook_secret, a.uuid, bad))
    assert resp.status_code == 400 and resp.json()['faultstring'].startswith('offset:')
