"""git push -> signed callback -> local runner: tests, deploy, keep the last good app.

Plain bare repos whose post-receive runs the real hook shim line; the API on
real HTTP; the engine's run worker executing the local pipeline.
"""
import os
import re
import signal

import pytest

from solum_git.engine import runs as run_worker
from solum_git.engine import service as engine_service
from tests.functional import demo_app
from tests.functional import pushenv

APP = demo_app.VERSION


@pytest.fixture(scope='module')
def deploys(tmp_path_factory):
    """One repo with a local trigger, pushed v1, v2 and v3 (v3's tests fail)."""
    tmp = tmp_path_factory.mktemp('local')
    env = pushenv.PushEnv(tmp, 'sqlite:///%s' % (tmp / 'db.sqlite')).start()
    alice = env.client()
    repo = env.make_repo(alice, 'web')
    trigger = alice.post('/v1/infrastructure/repos/%s/triggers' % repo['uuid'], json={
        'type': 'local', 'config': {'test_cmd': 'sh test.sh', 'run_cmd': 'python3 app.py'}})
    assert trigger.status_code == 201, trigger.text
    tree = pushenv.WorkTree(tmp / 'wt', repo['bare'])
    out = {'env': env, 'alice': alice, 'repo': repo, 'pushes': []}
    try:
        for version, test_exit in (('v1', 0), ('v2', 0), ('v3', 1)):
            commit = tree.commit({'app.py': APP, 'version.txt': version,
                                  'test.sh': 'echo testing %s\nexit %d\n' % (version,
                                                                             test_exit)},
                                 version)
            output, _seconds = tree.push()
            lines = pushenv.remote_lines(output)
            run_uri = re.search(r'local run for main queued: (\S+)', output).group(1)
            run = pushenv.wait_run(alice, run_uri)
            out['pushes'].append({'commit': commit, 'lines': lines, 'run': run,
                                  'answer': demo_app.answer(run['app_url'])
                                  if run['app_url'] else None,
                                  'v1_after': demo_app.answer(out['pushes'][0]['run']
                                                              ['app_url'])
                                  if out['pushes'] else None,
                                  'v2_after': demo_app.answer(out['pushes'][1]['run']
                                                              ['app_url'])
                                  if len(out['pushes']) > 1 else None})
        out['push_list'] = alice.get('/v1/infrastructure/repos/%s/pushes'
                                     % repo['uuid']).json()
        out['v3_log'] = alice.get(out['pushes'][2]['run']['log_uri'])
        yield out
    finally:
        env.stop()
    out['v2_after_stop'] = demo_app.answer(out['pushes'][1]['run']['app_url'])


def test_the_client_sees_the_push_record_and_the_run_as_remote_lines(deploys):
    lines = deploys['pushes'][0]['lines']
    assert any(re.match(r'solum-git: push recorded: http://\S+/v1/infrastructure/repos/'
                        r'%s/pushes/\S+$' % deploys['repo']['uuid'], line) for line in lines)
    assert any(re.match(r'solum-git: local run for main queued: http://\S+/v1/'
                        r'infrastructure/runs/\S+$', line) for line in lines), lines


def test_first_push_tests_and_deploys_v1(deploys):
    first = deploys['pushes'][0]
    assert first['run']['status'] == 'SUCCESS', first['run']
    assert first['run']['commit'] == first['commit']
    assert first['run']['app_url'].startswith('http://127.0.0.1:')
    assert first['answer'] == 'v1'


def test_second_push_replaces_v1_with_v2(deploys):
    second = deploys['pushes'][1]
    assert second['run']['status'] == 'SUCCESS', second['run']
    assert second['answer'] == 'v2'
    assert second['v1_after'] is None, 'the v1 app must be stopped once v2 serves'


def test_failing_tests_keep_v2_serving_and_fail_the_run(deploys):
    third = deploys['pushes'][2]
    assert third['run']['status'] == 'FAILED'
    assert 'test_cmd exited with 1' in third['run']['status_reason']
    assert third['run']['app_url'] is None
    assert third['v2_after'] == 'v2'


def test_the_run_log_has_the_test_output(deploys):
    log = deploys['v3_log']
    assert log.status_code == 200
    assert log.headers['Content-Type'].startswith('text/plain')
    assert log.headers['X-Run-Status'] == 'FAILED'
    assert 'testing v3' in log.text
    assert 'test_cmd exited with 1' in log.text


def test_pushes_are_listed_newest_first_with_their_runs(deploys):
    pushes = deploys['push_list']
    assert [p['refs'][0]['new'] for p in pushes] == [
        p['commit'] for p in reversed(deploys['pushes'])]
    assert all(p['pusher'] == 'alice' and len(p['runs']) == 1 for p in pushes)
    assert pushes[0]['runs'][0]['status'] == 'FAILED'
    assert pushes[-1]['refs'][0]['old'] == pushenv.ZERO


def test_an_app_that_dies_is_restarted_and_engine_stop_stops_it(tmp_path):
    env = pushenv.PushEnv(tmp_path, 'sqlite:///%s' % (tmp_path / 'db.sqlite')).start()
    try:
        alice = env.client()
        repo = env.make_repo(alice, 'svc')
        alice.post('/v1/infrastructure/repos/%s/triggers' % repo['uuid'], json={
            'type': 'local', 'config': {'run_cmd': 'exec python3 app.py'}})
        tree = pushenv.WorkTree(tmp_path / 'wt', repo['bare'])
        tree.commit({'app.py': APP, 'version.txt': 'up'}, 'up')
        output, _seconds = tree.push()
        run = pushenv.wait_run(alice, re.search(r'run for main queued: (\S+)',
                                                output).group(1))
        assert run['status'] == 'SUCCESS', run
        app = next(iter(env.engine.workers[0].drivers['local'].apps.values()))
        first_pid = app.proc.pid
        os.kill(first_pid, signal.SIGKILL)
        pushenv.wait_for(lambda: app.proc.pid != first_pid
                         and demo_app.answer(run['app_url']) == 'up', timeout=20,
                         what='the app restarted on its port')
        pid = app.proc.pid
    finally:
        env.stop()
    assert demo_app.answer(run['app_url']) is None
    assert not os.path.exists('/proc/%d' % pid), 'the app must be stopped and reaped'


def test_an_engine_restart_restores_the_app_and_a_deleted_trigger_stops_it(tmp_path):
    env = pushenv.PushEnv(tmp_path, 'sqlite:///%s' % (tmp_path / 'db.sqlite'),
                          pipelines={'app_check_interval': 0.2}).start()
    try:
        alice = env.client()
        repo = env.make_repo(alice, 'svc')
        trigger = alice.post('/v1/infrastructure/repos/%s/triggers' % repo['uuid'], json={
            'type': 'local', 'config': {'run_cmd': 'exec python3 app.py'}}).json()
        tree = pushenv.WorkTree(tmp_path / 'wt', repo['bare'])
        tree.commit({'app.py': APP, 'version.txt': 'kept'}, 'kept')
        output, _seconds = tree.push()
        run = pushenv.wait_run(alice, re.search(r'run for main queued: (\S+)',
                                                output).group(1))
        assert demo_app.answer(run['app_url']) == 'kept'
        env.engine.stop()
        assert demo_app.answer(run['app_url']) is None
        # a new engine process would do the same: same state dir, same database
        env.engine = engine_service.Engine(env.conf, env.db, env.servers,
                                           [run_worker.RunWorker])
        env.engine.start()
        pushenv.wait_for(lambda: demo_app.answer(run['app_url']) == 'kept', timeout=20,
                         what='the app restored on its port')
        assert alice.delete(trigger['uri']).status_code == 204
        pushenv.wait_for(lambda: demo_app.answer(run['app_url']) is None, timeout=20,
                         what='the deleted trigger\'s app to stop')
    finally:
        env.stop()


def test_the_hook_shows_the_run_log_while_the_client_waits(tmp_path):
    env = pushenv.PushEnv(tmp_path, 'sqlite:///%s' % (tmp_path / 'db.sqlite'),
                          hook={'stream_seconds': 60}).start()
    try:
        alice = env.client()
        repo = env.make_repo(alice, 'svc')
        alice.post('/v1/infrastructure/repos/%s/triggers' % repo['uuid'], json={
            'type': 'local', 'config': {'test_cmd': 'sh test.sh'}})
        tree = pushenv.WorkTree(tmp_path / 'wt', repo['bare'])
        tree.commit({'test.sh': 'echo first line\nsleep 1.5\necho second line\n'}, 'one')
        output, seconds = tree.push()
    finally:
        env.stop()
    lines = pushenv.remote_lines(output)
    assert 'solum-git: | first line' in lines
    assert 'solum-git: | second line' in lines
    assert lines.index('solum-git: | first line') < lines.index('solum-git: | second line')
    assert lines[-1] == 'solum-git: local run SUCCESS: tests passed', lines
    assert 1.5 < seconds < 60
