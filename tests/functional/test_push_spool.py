"""Nothing lost, nothing twice: the API down, slow or restarted during pushes."""
import json
import socket
import threading
import time

import sqlalchemy as sa

from solum_git.db import models
from tests.functional import pushenv


class SlowProxy:
    """Forwards to the API but holds each answer back ``delay`` seconds."""

    def __init__(self, upstream_port, delay):
        self.upstream = ('127.0.0.1', upstream_port)
        self.delay = delay
        self.sock = socket.socket()
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(16)
        self.url = 'http://127.0.0.1:%d' % self.sock.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        with client, socket.create_connection(self.upstream) as upstream:
            client.settimeout(5)
            request = b''
            while b'\r\n\r\n' not in request:
                request += client.recv(65536)
            head, _, body = request.partition(b'\r\n\r\n')
            length = int([h for h in head.split(b'\r\n') if h.lower().startswith(
                b'content-length:')][0].split(b':')[1])
            while len(body) < length:
                body += client.recv(65536)
            upstream.sendall(head + b'\r\n\r\n' + body)
            answer = b''
            while True:
                data = upstream.recv(65536)
                if not data:
                    break
                answer += data
            time.sleep(self.delay)
            try:
                client.sendall(answer)
            except OSError:
                pass  # the hook gave up already

    def close(self):
        self.closed = True
        self.sock.close()


def _hook_timeout(repo, seconds):
    with open(repo['hook_config']) as f:
        settings = json.load(f)
    settings['timeout'] = seconds
    with open(repo['hook_config'], 'w') as f:
        json.dump(settings, f)


def _db_counts(env):
    with env.db.reader() as session:
        pushes = session.execute(sa.select(models.Push.push_id)).scalars().all()
        runs = session.execute(sa.select(models.Run.push_id)).scalars().all()
    return pushes, runs


def test_api_down_and_restarted_during_pushes_records_every_push_once(tmp_path):
    env = pushenv.PushEnv(tmp_path, 'sqlite:///%s' % (tmp_path / 'db.sqlite'),
                          pipelines={'flush_interval': 1}).start()
    try:
        alice = env.client()
        repo = env.make_repo(alice, 'app')
        alice.post('/v1/infrastructure/repos/%s/triggers' % repo['uuid'],
                   json={'type': 'local', 'config': {'test_cmd': 'true'}})
        tree = pushenv.WorkTree(tmp_path / 'wt', repo['bare'])
        commits, outputs = [], []

        def push(n):
            commits.append(tree.commit({'f': str(n)}, 'c%d' % n))
            outputs.append(tree.push()[0])

        push(1)
        port = env.stop_api()
        push(2)
        push(3)
        env.start_api(port)
        push(4)
        # down again; this time the engine's flush pass delivers, with no new push
        port = env.stop_api()
        push(5)
        with env.db.writer() as session:
            session.execute(sa.update(models.Stack).values(status='ACTIVE'))
        env.start_api(port)
        pushenv.wait_for(lambda: len(_db_counts(env)[0]) == 5, timeout=20,
                         what='the engine to flush the spooled push')
        pushes = alice.get('/v1/infrastructure/repos/%s/pushes' % repo['uuid']).json()
        for push_view in pushes:
            for run in push_view['runs']:
                assert pushenv.wait_run(alice, run['uri'])['status'] == 'SUCCESS'
        push_ids, run_push_ids = _db_counts(env)
    finally:
        env.stop()
    assert 'push recorded' in outputs[0]
    for n in (1, 2, 4):
        assert 'is spooled and will be delivered later' in outputs[n], outputs[n]
    assert 'delivered 2 earlier push(es) from the spool' in outputs[3]
    assert [p['refs'][0]['new'] for p in pushes] == commits[::-1]
    assert len(set(push_ids)) == 5 and len(run_push_ids) == 5
    assert len(set(run_push_ids)) == 5
    assert all(len(p['runs']) == 1 for p in pushes)


def test_a_slow_api_answer_spools_a_push_it_recorded_and_still_counts_once(tmp_path):
    env = pushenv.PushEnv(tmp_path, 'sqlite:///%s' % (tmp_path / 'db.sqlite')).start()
    proxy = SlowProxy(int(env.api.url.rsplit(':', 1)[1]), delay=2)
    try:
        alice = env.client()
        repo = env.make_repo(alice, 'app', callback_url=proxy.url + '/v1/hooks/post-receive')
        _hook_timeout(repo, 0.5)
        alice.post('/v1/infrastructure/repos/%s/triggers' % repo['uuid'],
                   json={'type': 'local', 'config': {'test_cmd': 'true'}})
        tree = pushenv.WorkTree(tmp_path / 'wt', repo['bare'])
        tree.commit({'f': '1'}, 'one')
        slow, _seconds = tree.push()
        # the API recorded it although the hook stopped waiting
        pushenv.wait_for(lambda: len(_db_counts(env)[0]) == 1, timeout=10,
                         what='the slow push to be recorded')
        proxy.delay = 0
        _hook_timeout(repo, 10)  # a loaded test machine must not look slow
        tree.commit({'f': '2'}, 'two')
        fast, _seconds = tree.push()
        push_ids, run_push_ids = _db_counts(env)
    finally:
        proxy.close()
        env.stop()
    assert 'spooled' in slow and 'timed out' in slow
    assert 'delivered 1 earlier push(es)' in fast and 'push recorded' in fast
    assert len(push_ids) == 2 and len(run_push_ids) == 2
