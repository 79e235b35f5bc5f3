"""The whole path on real parts: ssh-keygen, git push over sshd + gitolite3, the
post-receive hook the bootstrap installed, the signed callback to a separate
solum-git-api process, a separate solum-git-engine running the local runner
and the webhook, the app answering curl; then the API stopped during a push
and the engine asking the server (``solum-flush`` over SSH) to deliver it.
"""
import os
import re
import subprocess
import time

import pytest
import requests

from tests.functional import gitserver
from tests.functional import pushenv
from tests.functional import test_push_local
from tests.functional import test_push_webhook
from tests import helpers


class Engine:
    """solum-git-engine, a process of its own (the API runs with in_process = false)."""

    def __init__(self, api, tmp_path):
        self.log = open(tmp_path / 'engine.log', 'ab')
        self.proc = subprocess.Popen(
            [os.path.join(helpers.VENV_BIN, 'solum-git-engine'), '--config-file',
             str(api.config)], stdout=self.log, stderr=subprocess.STDOUT)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def _version(url):
    try:
        return requests.get(url, timeout=2).text
    except requests.ConnectionError:
        return None


def _push(dev, work):
    done = dev.git('push', 'origin', 'HEAD:refs/heads/main', cwd=work)
    assert done.returncode == 0, done.stderr
    return done.stderr


def _run_uris(output):
    return dict(re.findall(r'remote: solum-git: (\w+) run for main queued: (\S+)', output))


@pytest.fixture(scope='module')
def e2e(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('gitolite')
    receiver = test_push_webhook.Receiver()
    receiver.plan = {}  # answers 200 at once
    with gitserver.stacks_dir() as stacks:
        api = gitserver.GitApi(tmp, stacks, extra={
            'engine': {'in_process': 'false'},
            'pipelines': {'webhook_allow_private': 'true', 'flush_interval': 2}})
        api.start()
        engine = Engine(api, tmp)
        out = {'receiver': receiver, 'api': api, 'versions': {}}
        try:
            alice = gitserver.Dev(api, tmp, 'project-a', 'alice')
            repo = alice.wait_active(alice.create_repo('web'), timeout=120)
            alice.pin()
            for body in ({'type': 'local', 'config': {'test_cmd': 'sh test.sh',
                                                      'run_cmd': 'python3 app.py'}},
                         {'type': 'webhook', 'config': {'url': receiver.url,
                                                        'secret': test_push_webhook.SECRET}}):
                assert alice.api.post('/v1/infrastructure/repos/%s/triggers' % repo['uuid'],
                                      json=body).status_code == 201
            done, work = alice.clone(repo['git_url'], 'work')
            assert done.returncode == 0, done.stderr
            for version, test_exit in (('v1', 0), ('v2', 0)):
                commit = alice.commit(work, version, {
                    'app.py': test_push_local.APP, 'version.txt': version,
                    'test.sh': 'exit %d\n' % test_exit})
                start = time.monotonic()
                output = _push(alice, work)
                uris = _run_uris(output)
                runs = {kind: pushenv.wait_run(alice.api, uri, timeout=90)
                        for kind, uri in uris.items()}
                out['versions'][version] = {
                    'commit': commit, 'output': output, 'runs': runs,
                    'seconds': time.monotonic() - start,
                    'answer': _version(runs['local']['app_url'])}
            out['v1_after_v2'] = _version(out['versions']['v1']['runs']['local']['app_url'])
            # the API process goes away; the git server (a daemon of its own) stays
            helpers.ApiProcess.stop(api)
            commit = alice.commit(work, 'v3', {'version.txt': 'v3', 'test.sh': 'exit 1\n'})
            out['versions']['v3'] = {'commit': commit, 'output': _push(alice, work)}
            api.start()
            pushes = pushenv.wait_for(
                lambda: (lambda p: p if len(p) == 3 and all(
                    r['status'] in ('SUCCESS', 'FAILED') for r in p[0]['runs'])
                    else None)(alice.api.get('/v1/infrastructure/repos/%s/pushes'
                                             % repo['uuid']).json()),
                timeout=90, what='the engine to flush the spooled push and run it')
            out['pushes'] = pushes
            out['v2_after_v3'] = _version(out['versions']['v2']['runs']['local']['app_url'])
            stack = api.stack_row('project-a')
            body = b'{"push_id": "forged-push-0001"}'
            out['forged'] = requests.post(api.url + '/v1/hooks/post-receive', data=body,
                                          headers={'X-Solum-Git-Stack': stack['uuid'],
                                                   'X-Solum-Git-Timestamp':
                                                   str(int(time.time())),
                                                   'X-Solum-Git-Nonce': '0' * 32,
                                                   'X-Solum-Git-Signature': 'v1=' + '0' * 64},
                                          timeout=30)
            out['after_forgery'] = len(alice.api.get(
                '/v1/infrastructure/repos/%s/pushes' % repo['uuid']).json())
            yield out
        finally:
            engine.stop()
            api.stop()
            receiver.close()
        app_url = out['versions']['v2']['runs']['local']['app_url']
        assert _version(app_url) is None, 'the stopped engine left its app running'


def test_git_push_through_gitolite_shows_what_started(e2e):
    output = e2e['versions']['v1']['output']
    assert re.search(r'remote: solum-git: push recorded: http://\S+/pushes/\S+', output)
    assert set(_run_uris(output)) == {'local', 'webhook'}


def test_the_local_runner_deploys_v1_then_v2(e2e):
    v1, v2 = e2e['versions']['v1'], e2e['versions']['v2']
    assert v1['runs']['local']['status'] == 'SUCCESS', v1['runs']['local']
    assert v1['answer'] == 'v1'
    assert v2['answer'] == 'v2'
    assert e2e['v1_after_v2'] is None


def test_a_push_while_the_api_is_down_is_spooled_then_flushed_by_the_engine(e2e):
    assert 'is spooled and will be delivered later' in e2e['versions']['v3']['output']
    pushes = e2e['pushes']
    assert [p['refs'][0]['new'] for p in pushes] == [
        e2e['versions'][v]['commit'] for v in ('v3', 'v2', 'v1')]
    assert len({p['push_id'] for p in pushes}) == 3
    assert all(len(p['runs']) == 2 for p in pushes)
    assert all(p['pusher'] == 'alice' for p in pushes)


def test_failing_tests_of_v3_keep_v2_serving(e2e):
    local = [r for r in e2e['pushes'][0]['runs'] if r['type'] == 'local'][0]
    assert local['status'] == 'FAILED'
    assert e2e['v2_after_v3'] == 'v2'


def test_the_webhook_got_every_push_signed_once(e2e):
    deliveries = e2e['receiver'].deliveries
    assert all(d['signed'] for d in deliveries)
    assert [d['body']['after'] for d in deliveries] == [
        e2e['versions'][v]['commit'] for v in ('v1', 'v2', 'v3')]
    assert deliveries[0]['body']['pusher']['name'] == 'alice'
    assert deliveries[1]['body']['commits'][0]['id'] == e2e['versions']['v2']['commit']


def test_a_forged_callback_to_the_live_api_is_refused(e2e):
    assert e2e['forged'].status_code == 401
    assert e2e['after_forgery'] == 3
