"""git push -> solum pipeline -> a workflow on a real Solum 15.0.0 API.

Solum runs from PyPI in its own virtualenv (tools/solum-testenv.sh, pinned by
OpenStack 2023.2's upper constraints) through tools/solum_harness.py, which
patches, at start-up, Solum 15.0.0's known bugs on that stack (its workflow
controllers' ``super().__init__(self)``, the request context without
Keystone, its SQLite database): see that file. Without Keystone here, the
pipeline uses ``[solum] auth_strategy = noauth`` (the trigger owner's headers).
"""
import pathlib
import re
import subprocess
import threading

import pytest
import requests

from tests.functional import pushenv
from tests import helpers

TOP = pathlib.Path(__file__).resolve().parents[2]
HEADERS = {'X-User-Id': 'alice', 'X-Project-Id': 'project-a', 'X-Roles': 'member'}


class Solum:
    def __init__(self, tmp):
        subprocess.run([str(TOP / 'tools' / 'solum-testenv.sh')], check=True, timeout=900)
        self.port = helpers.free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        self.log = open(tmp / 'solum.log', 'w')
        self.proc = subprocess.Popen(
            [str(TOP / '.venv-solum' / 'bin' / 'python'), str(TOP / 'tools' / 'solum_harness.py'),
             '--port', str(self.port)], stdout=subprocess.PIPE, stderr=self.log, text=True)
        ready = []
        reader = threading.Thread(target=lambda: ready.append(self.proc.stdout.readline()),
                                  daemon=True)
        reader.start()
        reader.join(120)
        if not ready or not ready[0].startswith('READY'):
            self.stop()
            raise RuntimeError('Solum did not start; see %s' % self.log.name)

    def call(self, method, path, **kw):
        return requests.request(method, self.url + path, headers=HEADERS, timeout=30, **kw)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


@pytest.fixture(scope='module')
def solum_runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('solum')
    solum = Solum(tmp)
    env = None
    try:
        assert solum.call('POST', '/v1/language_packs', json={
            'name': 'python', 'source_uri': 'https://github.com/example/lp.git'}).ok
        app = solum.call('POST', '/v1/apps', json={
            'name': 'web', 'languagepack': 'python',
            'source': {'repository': 'git@127.0.0.1:project-a/web.git', 'revision': 'main'},
            'workflow_config': {'test_cmd': 'true', 'run_cmd': 'python3 app.py'}})
        assert app.status_code == 201, app.text
        app_id = app.json()['id']
        env = pushenv.PushEnv(tmp, 'sqlite:///%s' % (tmp / 'db.sqlite'),
                              solum={'url': solum.url, 'auth_strategy': 'noauth'},
                              pipelines={'retry_backoff': 0.2, 'retry_max_attempts': 2}
                              ).start()
        alice = env.client()
        repo = env.make_repo(alice, 'web')
        dead = 'http://127.0.0.1:%d' % helpers.free_port()
        for branches, config in (
                ('main', {'app_id': app_id, 'actions': ['unittest', 'build']}),
                ('release', {'app_id': app_id}),
                ('typo', {'app_id': 'no-such-app'}),
                ('down', {'app_id': app_id, 'solum_url': dead})):
            created = alice.post('/v1/infrastructure/repos/%s/triggers' % repo['uuid'],
                                 json={'type': 'solum', 'branches': branches,
                                       'config': config})
            assert created.status_code == 201, created.text
        tree = pushenv.WorkTree(tmp / 'wt', repo['bare'])
        tree.commit({'app.py': 'print(1)\n'}, 'one')
        runs = {}
        for branch in ('main', 'release', 'typo', 'down'):
            output = tree.push(branch)[0]
            uri = re.search(r'solum run for %s queued: (\S+)' % branch, output).group(1)
            runs[branch] = pushenv.wait_run(alice, uri)
        yield {'runs': runs, 'app_id': app_id, 'solum': solum,
               'workflows': solum.call('GET', '/v1/apps/%s/workflows' % app_id).json()}
    finally:
        if env is not None:
            env.stop()
        solum.stop()


def test_a_push_creates_a_workflow_that_solum_then_lists(solum_runs):
    run = solum_runs['runs']['main']
    assert run['status'] == 'SUCCESS', run
    assert re.match(r'Solum workflow \S+ \(unittest, build\) created on app ', run[
        'status_reason'])
    assert run['app_url'].endswith('/v1/apps/%s' % solum_runs['app_id'])
    workflow_id = run['deliveries'][-1]['workflow']
    listed = {w['id']: w for w in solum_runs['workflows']}
    assert listed[workflow_id]['actions'] == ['unittest', 'build']
    assert listed[workflow_id]['app_id'] == solum_runs['app_id']


def test_a_trigger_without_actions_asks_for_unittest_build_deploy(solum_runs):
    run = solum_runs['runs']['release']
    assert run['status'] == 'SUCCESS', run
    workflow = {w['id']: w for w in solum_runs['workflows']}[run['deliveries'][-1]['workflow']]
    assert workflow['actions'] == ['unittest', 'build', 'deploy']
    assert len(solum_runs['workflows']) == 2


def test_an_unknown_app_is_a_failed_run_with_solums_answer(solum_runs):
    run = solum_runs['runs']['typo']
    assert run['status'] == 'FAILED'
    assert 'HTTP 404' in run['status_reason']
    assert len(run['deliveries']) == 1


def test_solum_down_is_retried_then_failed(solum_runs):
    run = solum_runs['runs']['down']
    assert run['status'] == 'FAILED'
    assert 'gave up after 2 attempts' in run['status_reason']
    assert [d['status_code'] for d in run['deliveries']] == [None, None]
    assert all(d['error'] for d in run['deliveries'])
