"""Git servers are the data plane: they keep serving while the API (with its
engine) is stopped, killed or restarted, the hook spools what it cannot
deliver, and every push is recorded once after the restart. They stop only
when an operator says so (``solum-git-manage stacks stop``).
"""
import contextlib
import sqlite3
import threading
import time

import pytest

from tests.functional import gitserver

PUSHES = 20


@pytest.fixture
def api(tmp_path):
    with gitserver.running_api(tmp_path) as server:
        yield server


def _push_records(api):
    with contextlib.closing(sqlite3.connect(str(api.db_path), timeout=30)) as db:
        return db.execute('SELECT push_id, refs FROM pushes').fetchall()


def _listener(api, stack_uuid):
    pids = gitserver.sshd_listeners(str(api.sshd_dir(stack_uuid)))
    return pids[0] if len(pids) == 1 else None


def _ready(api, tmp_path, project):
    dev = gitserver.Dev(api, tmp_path, project, 'alice')
    repo = dev.wait_active(dev.create_repo('app'))
    stack = dev.pin()
    done, work = dev.clone(repo['git_url'], 'work')
    assert done.returncode == 0, done.stderr
    return dev, repo, stack, work


@pytest.mark.parametrize('how', ['sigterm', 'kill-9'])
def test_pushes_while_the_api_goes_down_all_succeed_and_are_recorded_once(
        api, tmp_path, how):
    dev, repo, stack, work = _ready(api, tmp_path, 'project-p')
    sshd = _listener(api, stack['uuid'])
    assert sshd
    results, commits = [], []

    def loop():
        for n in range(PUSHES):
            commits.append(dev.commit(work, 'push %d' % n))
            done = dev.push(work)
            results.append((done.returncode, done.stderr))

    pusher = threading.Thread(target=loop)
    pusher.start()
    try:
        gitserver.wait_for(lambda: len(results) >= 5, timeout=120, what='5 pushes')
        if how == 'sigterm':
            api.stop_api()
        else:
            api.kill_api()
        down_at = len(results)
        gitserver.wait_for(lambda: len(results) >= down_at + 5, timeout=120,
                           what='5 pushes with the API down')
        assert _listener(api, stack['uuid']) == sshd, 'the git server went down'
        api.start()
    finally:
        pusher.join(300)
    failed = [err for code, err in results if code != 0]
    assert not failed and len(results) == PUSHES, failed
    gitserver.wait_for(lambda: len(_push_records(api)) >= PUSHES, timeout=60,
                       what='every push recorded after the restart')
    time.sleep(1)  # a duplicate would be a late delivery: give it the chance
    records = _push_records(api)
    assert len(records) == PUSHES
    assert len({push_id for push_id, _refs in records}) == PUSHES
    assert all(any(c in refs for refs in (r for _p, r in records)) for c in commits)
    # adopted by the restarted engine, not replaced
    assert _listener(api, stack['uuid']) == sshd


def test_stacks_stop_takes_servers_down_and_an_engine_start_brings_them_back(
        api, tmp_path):
    dev, repo, stack, work = _ready(api, tmp_path, 'project-s')
    api.stop_api()
    assert dev.ls_remote(repo['git_url']).returncode == 0, 'serves with the API down'
    done = api.manage('stacks', 'stop', '--all')
    assert '%s: stopped' % stack['uuid'] in done.stdout
    assert not gitserver.sshd_pids(api.stacks_path)
    assert dev.ls_remote(repo['git_url']).returncode != 0
    listed = api.manage('stacks', 'list').stdout
    assert stack['uuid'] in listed and 'not running' in listed
    api.start()
    gitserver.wait_for(lambda: dev.ls_remote(repo['git_url']).returncode == 0,
                       timeout=60, what='the engine start bringing the server back')
    dev.commit(work, 'after the stop')
    done = dev.push(work)
    assert done.returncode == 0, done.stderr
    assert 'sshd %d' % _listener(api, stack['uuid']) in api.manage('stacks', 'list').stdout


def test_a_stopped_server_stays_down_under_a_running_engine_until_started(api, tmp_path):
    dev, repo, stack, work = _ready(api, tmp_path, 'project-t')
    done = api.manage('stacks', 'stop', stack['uuid'])
    assert '%s: stopped' % stack['uuid'] in done.stdout
    # the engine notices the server is gone (it looks every second) and leaves it
    time.sleep(3)
    assert not gitserver.sshd_pids(api.stacks_path)
    assert dev.ls_remote(repo['git_url']).returncode != 0
    view = dev.api.get('/v1/infrastructure/stacks/%s' % stack['uuid']).json()
    assert 'stopped by an operator' in (view['status_reason'] or ''), view
    done = api.manage('stacks', 'start', stack['uuid'])
    assert '%s: sshd ' % stack['uuid'] in done.stdout
    assert dev.ls_remote(repo['git_url']).returncode == 0
    dev.commit(work, 'after the start')
    done = dev.push(work)
    assert done.returncode == 0, done.stderr
