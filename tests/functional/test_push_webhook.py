"""git push -> webhook: GitHub-shaped bodies checked by a real HTTP receiver.

The receiver verifies X-Hub-Signature-256 with the trigger's secret itself and
answers per branch: main fails twice then succeeds, down always fails, gone is 404.
"""
import hashlib
import hmac
import http.server
import json
import os
import re
import threading
import time

import pytest

from tests.functional import pushenv

SECRET = 'webhook-secret-of-the-trigger'


class Receiver:
    def __init__(self):
        self.deliveries = []
        self.plan = {'refs/heads/main': [500, 503], 'refs/heads/down': [500] * 100,
                     'refs/heads/gone': [404] * 100}
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers['Content-Length']))
                expected = 'sha256=' + hmac.new(SECRET.encode(), body,
                                                hashlib.sha256).hexdigest()
                signed = hmac.compare_digest(expected,
                                             self.headers.get('X-Hub-Signature-256', ''))
                payload = json.loads(body)
                queue = outer.plan.get(payload['ref'], [])
                status = queue.pop(0) if queue and signed else (200 if signed else 401)
                outer.deliveries.append({'headers': dict(self.headers), 'body': payload,
                                         'signed': signed, 'status': status,
                                         'at': time.monotonic()})
                self.send_response(status)
                self.send_header('Content-Length', '2')
                self.end_headers()
                self.wfile.write(b'ok')

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.url = 'http://127.0.0.1:%d/hooks/solum-git' % self.server.server_port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def for_ref(self, ref):
        return [d for d in self.deliveries if d['body']['ref'] == ref]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope='module')
def hooked(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('webhook')
    receiver = Receiver()
    env = pushenv.PushEnv(tmp, 'sqlite:///%s' % (tmp / 'db.sqlite'), pipelines={
        'webhook_allow_private': True, 'retry_backoff': 0.3, 'retry_backoff_max': 0.6,
        'retry_max_attempts': 4}).start()
    out = {'receiver': receiver, 'runs': {}}
    try:
        alice = env.client()
        repo = env.make_repo(alice, 'svc')
        assert alice.post('/v1/infrastructure/repos/%s/triggers' % repo['uuid'], json={
            'type': 'webhook', 'branches': '*',
            'config': {'url': receiver.url, 'secret': SECRET}}).status_code == 201
        tree = pushenv.WorkTree(tmp / 'wt', repo['bare'])
        first = tree.commit({'README': 'hello\n', 'src/app.py': 'print(1)\n'}, 'first')
        second = tree.commit({'src/app.py': 'print(2)\n'}, 'second\n\nwith a body')
        out['main1'] = {'commits': [first, second], 'output': tree.push()[0]}
        for branch in ('down', 'gone'):
            out[branch] = {'output': tree.push(branch)[0]}
        for key in ('main1', 'down', 'gone'):
            uri = re.search(r'webhook run for \S+ queued: (\S+)', out[key]['output']).group(1)
            out[key]['run'] = pushenv.wait_run(alice, uri)
        third = tree.commit({'README': 'hello again\n'}, 'third')
        out['main2'] = {'commits': [third], 'output': tree.push()[0]}
        uri = re.search(r'webhook run for \S+ queued: (\S+)', out['main2']['output']).group(1)
        out['main2']['run'] = pushenv.wait_run(alice, uri)
        # redeliver the first run: same delivery id, one more entry in its log
        run_uri = out['main1']['run']['uri']
        out['redeliver'] = alice.post(run_uri + '/actions', json={'action': 'redeliver'})
        out['redelivered'] = pushenv.wait_for(
            lambda: (lambda r: r if r['status'] == 'SUCCESS' and len(r['deliveries']) == 4
                     else None)(alice.get(run_uri).json()), what='the redelivery')
        out['repo'] = repo
        runs_dir = os.path.join(env.conf.state_path, 'runs')
        out['work_dirs'] = os.listdir(runs_dir) if os.path.isdir(runs_dir) else []
        yield out
    finally:
        env.stop()
        receiver.close()


def test_every_delivery_is_signed_with_the_trigger_secret(hooked):
    deliveries = hooked['receiver'].deliveries
    assert deliveries and all(d['signed'] for d in deliveries)


def test_headers_are_githubs_and_the_delivery_id_is_stable_across_retries(hooked):
    run = hooked['main1']['run']
    main = hooked['receiver'].for_ref('refs/heads/main')[:3]
    assert [d['status'] for d in main] == [500, 503, 200]
    for d in main:
        assert d['headers']['X-GitHub-Event'] == 'push'
        assert d['headers']['X-GitHub-Delivery'] == run['uuid']
        assert d['headers']['X-GitHub-Hook-ID'] == run['trigger_uuid']
        assert d['headers']['Content-Type'] == 'application/json'
        assert d['headers']['User-Agent'].startswith('solum-git-Hookshot/')


def test_retries_back_off_exponentially_up_to_the_cap(hooked):
    at = [d['at'] for d in hooked['receiver'].for_ref('refs/heads/down')]
    gaps = [b - a for a, b in zip(at, at[1:])]
    assert len(at) == 4
    assert gaps[0] >= 0.3 and gaps[1] >= 0.6 and gaps[2] >= 0.6
    assert gaps[2] < gaps[1] + 0.5, 'the wait is capped at retry_backoff_max'


def test_the_body_is_a_github_push_event(hooked):
    body = hooked['receiver'].for_ref('refs/heads/main')[0]['body']
    first, second = hooked['main1']['commits']
    assert body['ref'] == 'refs/heads/main'
    assert body['before'] == pushenv.ZERO and body['after'] == second
    assert body['created'] is True and body['deleted'] is False
    assert body['repository']['name'] == 'svc'
    assert body['repository']['full_name'] == 'project-a/svc'
    assert body['pusher']['name'] == 'alice'
    assert [c['id'] for c in body['commits']] == [first, second]
    assert body['commits'][0]['added'] == ['README', 'src/app.py']
    assert body['commits'][1]['modified'] == ['src/app.py']
    assert body['commits'][1]['message'] == 'second\n\nwith a body'
    assert body['commits'][0]['author'] == {'name': 'Alice', 'email': 'alice@example.com'}
    assert body['head_commit']['id'] == second
    assert body['solum_git']['run_uuid'] == hooked['main1']['run']['uuid']


def test_a_later_push_lists_only_its_own_commits(hooked):
    body = hooked['receiver'].for_ref('refs/heads/main')[-2]['body']
    assert body['before'] == hooked['main1']['commits'][-1]
    assert [c['id'] for c in body['commits']] == hooked['main2']['commits']
    assert body['created'] is False and body['forced'] is False


def test_the_run_keeps_a_delivery_log(hooked):
    run = hooked['main1']['run']
    assert run['status'] == 'SUCCESS' and run['attempts'] == 3
    assert [d['status_code'] for d in run['deliveries']] == [500, 503, 200]
    assert {d['delivery_id'] for d in run['deliveries']} == {run['uuid']}


def test_a_receiver_that_keeps_failing_fails_the_run_after_max_attempts(hooked):
    run = hooked['down']['run']
    assert run['status'] == 'FAILED'
    assert 'gave up after 4 attempts' in run['status_reason']
    assert [d['status_code'] for d in run['deliveries']] == [500] * 4


def test_a_4xx_answer_is_final(hooked):
    run = hooked['gone']['run']
    assert run['status'] == 'FAILED' and 'HTTP 404' in run['status_reason']
    assert len(run['deliveries']) == 1


def test_redeliver_sends_the_same_delivery_again(hooked):
    assert hooked['redeliver'].status_code == 202
    run = hooked['redelivered']
    assert [d['status_code'] for d in run['deliveries']] == [500, 503, 200, 200]
    last = hooked['receiver'].for_ref('refs/heads/main')[-1]
    assert last['headers']['X-GitHub-Delivery'] == run['uuid']
    assert last['body']['after'] == hooked['main1']['commits'][-1]


def test_webhook_runs_leave_no_work_dir_behind(hooked):
    assert hooked['work_dirs'] == []
