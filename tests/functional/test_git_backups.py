"""Backups and repair with real git, gitolite and sshd: pushes are backed up
within max_lag, a lost repo comes back from its backup ref for ref, a lost
repo with no backup goes to ERROR naming what was lost, never ACTIVE-empty.
"""
import contextlib
import pathlib
import shutil
import sqlite3
import subprocess
import time
import types

import pytest

from solum_git.engine import repair as engine_repair
from tests.functional import gitserver

PROJECT = 'project-b'


@pytest.fixture(scope='module')
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('backups')
    store = tmp / 'store'
    with gitserver.stacks_dir() as stacks:
        api = gitserver.GitApi(tmp, stacks, extra={
            'backup': {'local_path': store, 'max_lag': 2, 'full_every': 3}})
        api.start()
        try:
            w = types.SimpleNamespace(api=api, tmp=tmp, store=store)
            w.alice = gitserver.Dev(api, tmp, PROJECT, 'alice')
            w.repo = w.alice.wait_active(w.alice.create_repo('app'))
            w.stack = w.alice.pin()
            done, w.work = w.alice.clone(w.repo['git_url'], 'work')
            assert done.returncode == 0, done.stderr
            yield w
        finally:
            api.stop()


def backups(w, repo):
    r = w.alice.api.get('/v1/infrastructure/repos/%s/backups' % repo['uuid'])
    assert r.status_code == 200, r.text
    return r.json()


def server_refs(w, name):
    """The refs on the server's disk; None while the repo is not there."""
    done = w.api.as_git(w.stack['uuid'], 'git --git-dir=repositories/%s.git for-each-ref '
                        '--format="%%(objectname) %%(refname)"' % name, check=False)
    if done.returncode != 0:
        return None
    return dict(reversed(line.split(' ', 1)) for line in done.stdout.splitlines())


def wait_covered(w, repo, refs, timeout=30):
    """Until the newest backup of ``repo`` has exactly ``refs``."""
    def done():
        found = backups(w, repo)
        return found and found[0]['refs'] == refs and found
    return gitserver.wait_for(done, timeout, what='a backup with %s' % refs)


def push_commit(w, work, message, *refspecs):
    w.alice.commit(work, message)
    done = w.alice.push(work, *refspecs)
    assert done.returncode == 0, done.stderr


def db(w):
    return contextlib.closing(sqlite3.connect(str(w.api.db_path), timeout=30))


@contextlib.contextmanager
def held_lease(w):
    """The stack's lease, taken the moment no engine pass holds it."""
    def take():
        with db(w) as conn:
            taken = conn.execute(
                "UPDATE stacks SET lease_owner = 'test-holder', lease_expires = "
                "'2999-01-01 00:00:00.000000' WHERE project_id = ? AND lease_owner IS NULL",
                (PROJECT,)).rowcount
            conn.commit()
            return taken
    gitserver.wait_for(take, timeout=60, what='the lease free')
    try:
        yield
    finally:
        w.api.hold_lease(PROJECT, hold=False)


def test_a_push_is_backed_up_within_max_lag_and_increments_follow(world):
    push_commit(world, world.work, 'one')
    first = wait_covered(world, world.repo, server_refs(world, 'app'))
    # the chain starts with a full backup (of the repo made empty, when the
    # engine got there before the push) and every link is verified
    assert first[-1]['kind'] == 'full' and first[-1]['seq'] == 0
    assert all(b['verified'] for b in first)
    assert first[0]['size_bytes'] > 0
    push_commit(world, world.work, 'two')
    push_commit(world, world.work, 'three', 'HEAD:refs/heads/feature')
    found = wait_covered(world, world.repo, server_refs(world, 'app'))
    assert found[0]['kind'] == 'incremental'
    # covered: the next look (within max_lag) confirms the newest push is in it
    view = gitserver.wait_for(
        lambda: (lambda v: v if v['backup_lag_seconds'] == 0 else None)(
            world.alice.repo(world.repo['uuid'])), timeout=10, what='lag 0')
    assert view['backed_up_at'] is not None


def test_a_deleted_repo_dir_is_restored_with_every_ref_on_resync(world):
    push_commit(world, world.work, 'before the loss')
    refs = server_refs(world, 'app')
    wait_covered(world, world.repo, refs)
    shutil.rmtree(str(world.api.home(world.stack['uuid']) / 'repositories' / 'app.git'))
    world.api.resync(world.alice.api, world.stack['uuid'])
    gitserver.wait_for(lambda: (world.api.home(world.stack['uuid']) / 'repositories'
                                / 'app.git').is_dir() and server_refs(world, 'app') == refs,
                       timeout=60, what='app restored')
    view = gitserver.wait_for(
        lambda: (lambda v: v if 'restored from backup' in (v['status_reason'] or '')
                 else None)(world.alice.repo(world.repo['uuid'])),
        timeout=30, what='the status_reason saying so')
    assert view['status'] == 'ACTIVE'
    # and the repo takes pushes again, hooks in place
    push_commit(world, world.work, 'after the restore')


def test_a_lost_repo_with_no_backup_goes_to_error_naming_what_was_lost(world):
    repo = world.alice.wait_active(world.alice.create_repo('nobackup'))
    done, work = world.alice.clone(repo['git_url'], 'nobackup')
    assert done.returncode == 0, done.stderr
    push_commit(world, work, 'only copy')
    sha = world.alice.git('rev-parse', 'HEAD', cwd=work).stdout.strip()
    home = world.api.home(world.stack['uuid'])
    # no engine pass may run while its backups and then its data go
    with held_lease(world):
        with db(world) as conn:
            conn.execute('DELETE FROM backups WHERE repo_uuid = ?', (repo['uuid'],))
            conn.commit()
        shutil.rmtree(str(home / 'repositories' / 'nobackup.git'))
    world.api.resync(world.alice.api, world.stack['uuid'])
    view = gitserver.wait_for(
        lambda: (lambda v: v if v['status'] == 'ERROR' else None)(world.alice.repo(repo['uuid'])),
        timeout=60, what='nobackup in ERROR')
    assert 'lost' in view['status_reason'] and sha[:12] in view['status_reason'], view
    # a clone is refused rather than handed an empty repo, and no empty backup
    # hides the loss
    assert world.alice.ls_remote(repo['git_url']).returncode != 0
    assert backups(world, repo) == []


def test_an_empty_repo_is_backed_up_and_comes_back_empty_and_pushable(world):
    repo = world.alice.wait_active(world.alice.create_repo('empty'))
    found = wait_covered(world, repo, {})
    assert found[0]['size_bytes'] == 0 and found[0]['verified'] is True
    path = world.api.home(world.stack['uuid']) / 'repositories' / 'empty.git'
    shutil.rmtree(str(path))
    world.api.resync(world.alice.api, world.stack['uuid'])
    gitserver.wait_for(lambda: path.is_dir(), timeout=60, what='empty made again')
    world.api.wait_applied(PROJECT)
    assert world.alice.repo(repo['uuid'])['status'] == 'ACTIVE'
    assert server_refs(world, 'empty') == {}
    done, work = world.alice.clone(repo['git_url'], 'empty')
    assert done.returncode == 0, done.stderr
    push_commit(world, work, 'first in empty')


def _lose_and_resync(w, name):
    shutil.rmtree(str(w.api.home(w.stack['uuid']) / 'repositories' / ('%s.git' % name)))
    w.api.resync(w.alice.api, w.stack['uuid'])


def _reason(w, repo, word):
    return gitserver.wait_for(
        lambda: (lambda v: v if word in (v['status_reason'] or '') else None)(
            w.alice.repo(repo['uuid'])), timeout=60, what='%r in the status_reason' % word)


def test_a_repo_with_three_increments_is_restored_ref_for_ref(world):
    repo = world.alice.wait_active(world.alice.create_repo('chain'))
    done, work = world.alice.clone(repo['git_url'], 'chain')
    assert done.returncode == 0, done.stderr
    wait_covered(world, repo, {})     # the chain's full link: the empty repo
    for n, refspec in enumerate(['HEAD:refs/heads/main', 'HEAD:refs/heads/topic',
                                 'HEAD:refs/tags/v1']):
        push_commit(world, work, 'chain %d' % n, refspec)
        found = wait_covered(world, repo, server_refs(world, 'chain'))
    assert [b['kind'] for b in found] == ['incremental'] * 3 + ['full']
    assert len({b['chain'] for b in found}) == 1
    refs = server_refs(world, 'chain')
    _lose_and_resync(world, 'chain')
    _reason(world, repo, 'restored from backup %s' % found[0]['uuid'])
    assert server_refs(world, 'chain') == refs


def test_a_corrupt_bundle_is_detected_reported_and_not_used(world):
    repo = world.alice.wait_active(world.alice.create_repo('corrupt'))
    done, work = world.alice.clone(repo['git_url'], 'corrupt')
    assert done.returncode == 0, done.stderr
    push_commit(world, work, 'good')
    good = wait_covered(world, repo, server_refs(world, 'corrupt'))[0]
    push_commit(world, work, 'bad')
    bad = wait_covered(world, repo, server_refs(world, 'corrupt'))[0]
    assert bad['kind'] == 'incremental' and bad['size_bytes'] > 0
    path = list(world.store.rglob('*%s.bundle' % bad['uuid']))[0]
    data = bytearray(path.read_bytes())
    data[-30] ^= 0xff
    path.write_bytes(bytes(data))
    _lose_and_resync(world, 'corrupt')
    view = _reason(world, repo, 'restored from backup %s' % good['uuid'])
    assert 'unusable backups skipped: %s' % bad['uuid'] in view['status_reason']
    assert 'corrupt' in view['status_reason']
    # the push the corrupt link held is named as lost, and the repo still serves
    assert 'pushes after that backup are lost' in view['status_reason']
    assert server_refs(world, 'corrupt') == good['refs']
    listed = {b['uuid']: b for b in backups(world, repo)}
    assert listed[bad['uuid']]['verified'] is False
    assert 'corrupt' in listed[bad['uuid']]['broken_reason']
    assert view['status'] == 'ACTIVE'


def test_a_deleted_repo_is_undone_from_its_backups(world):
    repo = world.alice.wait_active(world.alice.create_repo('oops'))
    done, work = world.alice.clone(repo['git_url'], 'oops')
    assert done.returncode == 0, done.stderr
    push_commit(world, work, 'precious', 'HEAD:refs/heads/trunk')
    refs = server_refs(world, 'oops')
    wait_covered(world, repo, refs)
    r = world.alice.api.delete('/v1/infrastructure/repos/%s' % repo['uuid'])
    assert r.status_code == 204, r.text
    r = world.alice.api.post('/v1/infrastructure/repos', json={
        'name': 'oops-back', 'restore_from': repo['uuid']})
    assert r.status_code == 201, r.text
    back = world.alice.wait_active(r.json())
    assert back['restore_from'] == repo['uuid']
    assert server_refs(world, 'oops-back') == refs
    # another project cannot name it
    other = gitserver.Dev(world.api, world.tmp, 'project-other', 'eve')
    r = other.api.post('/v1/infrastructure/repos', json={'name': 'x',
                                                         'restore_from': repo['uuid']})
    assert r.status_code == 400 and 'restore_from' in r.text, r.text


def test_a_stack_restore_while_a_client_pushes_loses_no_acknowledged_push(world):
    import threading
    repo = world.alice.wait_active(world.alice.create_repo('busy'))
    done, work = world.alice.clone(repo['git_url'], 'busy')
    assert done.returncode == 0, done.stderr
    push_commit(world, work, 'base')
    wait_covered(world, repo, server_refs(world, 'busy'))
    acknowledged, refused, stop = [], [], threading.Event()

    def pusher():
        n = 0
        while not stop.is_set():
            n += 1
            sha = world.alice.commit(work, 'busy %d' % n)
            done = world.alice.push(work)
            if done.returncode == 0:
                acknowledged.append(sha)
            else:
                refused.append(done.stderr)
                world.alice.git('reset', '-q', '--hard', 'HEAD~1', cwd=work)
    thread = threading.Thread(target=pusher)
    thread.start()
    try:
        # pushes the backup has not seen yet: the restore must keep them
        with held_lease(world):
            gitserver.wait_for(lambda: len(acknowledged) >= 2, timeout=60, what='pushes')
            r = world.alice.api.post('/v1/infrastructure/stacks/%s/actions'
                                     % world.stack['uuid'], json={'action': 'restore'})
            assert r.status_code == 202, r.text
        gitserver.wait_for(lambda: world.api.stack_row(PROJECT)['restore_requested_at']
                           is None, timeout=60, what='the restore done')
        count = len(acknowledged)
        gitserver.wait_for(lambda: len(acknowledged) >= count + 2, timeout=60,
                           what='pushes after the restore')
    finally:
        stop.set()
        thread.join(60)
    assert 'an operator asked for a restore' in world.alice.repo(repo['uuid'])['status_reason']
    main = server_refs(world, 'busy')['refs/heads/main']
    for sha in acknowledged:
        done = subprocess.run(['git', '--git-dir', str(world.api.home(world.stack['uuid'])
                                                       / 'repositories' / 'busy.git'),
                               'merge-base', '--is-ancestor', sha, main])
        assert done.returncode == 0, 'acknowledged push %s lost' % sha
    for err in refused:
        assert 'being restored' in err or 'rejected' in err, err


def test_the_cli_lists_backups_and_queues_a_stack_restore(world):
    import json
    import os
    from tests import helpers
    env = dict(os.environ, SOLUM_GIT_URL=world.api.url, OS_PROJECT_ID=PROJECT,
               OS_USER_ID='alice')
    cli = os.path.join(helpers.VENV_BIN, 'solum-git')
    done = subprocess.run([cli, 'repo', 'backups', 'app', '-f', 'json'], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    listed = json.loads(done.stdout)
    assert [b['uuid'] for b in listed] == [b['uuid'] for b in backups(world, world.repo)]
    assert {b['kind'] for b in listed} <= {'full', 'incremental'}
    done = subprocess.run([cli, 'stack', 'restore', world.stack['uuid']], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert 'restore from the latest backups queued' in done.stderr
    gitserver.wait_for(lambda: world.api.stack_row(PROJECT)['restore_requested_at'] is None,
                       timeout=60, what='the restore done')


def test_the_store_holds_real_bundles_git_itself_restores(world):
    """The newest chain of app, replayed with git alone: every bundle verifies
    (after the links before it) and the refs come out as the last link says."""
    found = backups(world, world.repo)
    links = sorted([b for b in found if b['chain'] == found[0]['chain']],
                   key=lambda b: b['seq'])
    assert links[0]['kind'] == 'full'
    scratch = world.tmp / 'replay'
    subprocess.run(['git', 'init', '-q', '--bare', str(scratch)], check=True)
    for link in links:
        if not link['size_bytes']:
            continue
        path, = world.store.rglob('*%s.bundle' % link['uuid'])
        for args in (['bundle', 'verify', str(path)],
                     ['fetch', '-q', str(path), '+refs/*:refs/*']):
            done = subprocess.run(['git', '--git-dir', str(scratch)] + args,
                                  capture_output=True, text=True)
            assert done.returncode == 0, done.stderr
    out = subprocess.run(['git', '--git-dir', str(scratch), 'for-each-ref',
                          '--format=%(refname) %(objectname)'], capture_output=True,
                         text=True).stdout
    got = dict(line.split(' ') for line in out.splitlines())
    assert {ref: got.get(ref) for ref in links[-1]['refs']} == links[-1]['refs']


def test_a_ref_moved_behind_solum_gits_back_is_not_backed_up_and_is_restored(world):
    """main reset on the server's disk (no push) to a commit that drops the last
    pushed one: no backup takes it, and once it has settled the drift check
    restores the pushed commit and says why."""
    repo = world.alice.wait_active(world.alice.create_repo('moved'))
    done, work = world.alice.clone(repo['git_url'], 'moved')
    assert done.returncode == 0, done.stderr
    push_commit(world, work, 'kept')
    push_commit(world, work, 'dropped behind our back')
    refs = server_refs(world, 'moved')
    wait_covered(world, repo, refs)
    pushed = refs['refs/heads/main']
    git = 'git --git-dir=repositories/moved.git'
    rewritten = world.api.as_git(world.stack['uuid'], (
        'export GIT_AUTHOR_NAME=x GIT_AUTHOR_EMAIL=x@x GIT_COMMITTER_NAME=x '
        'GIT_COMMITTER_EMAIL=x@x && c=$({git} commit-tree -p {sha}~1 -m rewritten '
        '{sha}~1^{{tree}}) && {git} update-ref refs/heads/main $c && echo $c').format(
            git=git, sha=pushed)).strip()
    assert server_refs(world, 'moved')['refs/heads/main'] == rewritten
    moved_at = time.monotonic()
    # several backup passes (max_lag 2): none takes the moved ref
    time.sleep(4)
    assert backups(world, repo)[0]['refs'] == refs
    assert 'moved' not in (world.alice.repo(repo['uuid'])['status_reason'] or '')
    time.sleep(max(0.0, engine_repair.MOVED_SETTLE + 1 - (time.monotonic() - moved_at)))
    world.api.resync(world.alice.api, world.stack['uuid'])
    view = _reason(world, repo, 'moved behind solum-git')
    assert 'refs/heads/main moved' in view['status_reason'], view
    assert rewritten[:12] in view['status_reason'] and pushed[:12] in view['status_reason']
    assert 'restored from backup' in view['status_reason']
    assert server_refs(world, 'moved') == refs
    assert view['status'] == 'ACTIVE'


def test_a_local_server_lost_whole_is_rebuilt_with_its_host_key_and_repos(world):
    """Last: the stack directory goes, sshd with it; pinned clients push again."""
    import os
    import signal
    refs = server_refs(world, 'app')
    wait_covered(world, world.repo, refs)
    pid = int((world.api.sshd_dir(world.stack['uuid']) / 'sshd.pid').read_text())
    with held_lease(world):
        shutil.rmtree(str(pathlib.Path(world.api.stacks_path) / world.stack['uuid']))
        os.kill(pid, signal.SIGKILL)
    gitserver.wait_for(lambda: world.alice.ls_remote(world.repo['git_url']).returncode == 0,
                       timeout=120, what='the server back, same host key')
    gitserver.wait_for(lambda: server_refs(world, 'app') == refs, timeout=60,
                       what='app restored')
    assert world.alice.stack()['ssh_host_keys'] == world.stack['ssh_host_keys']
    push_commit(world, world.work, 'after the rebuild')
