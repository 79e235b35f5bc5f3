"""A repo the git server cannot take fails alone: it goes to ERROR with the
reason, the rest of its project's changes reach the server (a removed member
loses access while it is broken), and it recovers once the cause is gone.

Real solum-git-api, real sshd + gitolite, real git over ssh; the obstacle is
a file where the repo's directory must go on the server's disk.
"""
import contextlib
import os
import shutil
import sqlite3
import time

import pytest

from tests.functional import gitserver

PROJECT = 'project-f'
# the usual time from an API change to the server (one engine pass)
PASS_SECONDS = 10


@pytest.fixture
def world(tmp_path):
    with gitserver.running_api(tmp_path) as api:
        alice = gitserver.Dev(api, tmp_path, PROJECT, 'alice')
        bob = gitserver.Dev(api, tmp_path, PROJECT, 'bob')
        web = alice.wait_active(alice.create_repo('web'))
        alice.set_member(web, 'bob', 'RW')
        api.wait_applied(PROJECT)
        stack = alice.pin()
        bob.pin(stack)
        yield api, alice, bob, web, stack


def _repos_dir(api, stack):
    return api.home(stack['uuid']) / 'repositories'


def _status(dev, repo, wanted, timeout=60):
    def reached():
        view = dev.repo(repo['uuid'])
        return view if view['status'] == wanted else None
    return gitserver.wait_for(reached, timeout, what='repo %s %s' % (repo['name'], wanted))


def _denied(done):
    return done.returncode != 0 and 'DENIED' in done.stderr


def _until_denied(dev, url, since):
    gitserver.wait_for(lambda: _denied(dev.ls_remote(url)), PASS_SECONDS,
                       what='the server to refuse %s' % dev.user)
    return time.monotonic() - since


def _push_new_commit(dev, repo, message):
    done, work = dev.clone(repo['git_url'])
    assert done.returncode == 0, done.stderr
    dev.commit(work, message)
    done = dev.push(work)
    assert done.returncode == 0, done.stderr


def test_a_repo_the_server_cannot_make_fails_alone_and_recovers(world):
    api, alice, bob, web, stack = world
    obstacle = _repos_dir(api, stack) / 'broken.git'
    obstacle.write_text('not a repository\n')

    broken = alice.create_repo('broken')
    other = alice.create_repo('other')
    failed = _status(alice, broken, 'ERROR')
    assert 'broken.git is in the way' in failed['status_reason']
    # its neighbours are made and served; the stack is fine
    _push_new_commit(alice, alice.wait_active(other), 'other works')
    view = alice.api.get(failed['stack_uri']).json()
    assert view['status'] == 'ACTIVE' and not view['status_reason']
    assert alice.repo(web['uuid'])['status'] == 'ACTIVE'
    # gitolite does not know the broken one (it is not in the conf)
    assert alice.ls_remote(broken['git_url']).returncode != 0

    # while it is broken, a removed member loses access within one pass (bob
    # keeps a repo there, so his key stays: gitolite itself says DENIED)
    alice.set_member(other, 'bob', 'R')
    api.wait_applied(PROJECT)
    assert bob.ls_remote(web['git_url']).returncode == 0
    removed_at = time.monotonic()
    alice.remove_member(web, 'bob')
    took = _until_denied(bob, web['git_url'], removed_at)
    assert took < PASS_SECONDS
    assert bob.ls_remote(other['git_url']).returncode == 0
    assert alice.repo(broken['uuid'])['status'] == 'ERROR'
    assert obstacle.is_file()

    # the cause goes: the repo is tried again on its own and becomes ACTIVE
    obstacle.unlink()
    recovered = _status(alice, broken, 'ACTIVE')
    assert recovered['status_reason'] is None
    _push_new_commit(alice, recovered, 'broken no more')
    assert alice.repo(other['uuid'])['status'] == 'ACTIVE'
    api.wait_applied(PROJECT)


def test_a_deleted_key_loses_access_while_a_repo_is_broken(world):
    api, alice, bob, web, stack = world
    (_repos_dir(api, stack) / 'stuck.git').write_text('x')
    stuck = alice.create_repo('stuck')
    _status(alice, stuck, 'ERROR')
    assert bob.ls_remote(web['git_url']).returncode == 0
    deleted_at = time.monotonic()
    r = bob.api.delete('/v1/infrastructure/keys/%s' % bob.key_uuid)
    assert r.status_code == 204, r.text

    def key_gone():
        done = bob.ls_remote(web['git_url'])
        return done.returncode != 0 and 'Permission denied (publickey)' in done.stderr
    gitserver.wait_for(key_gone, PASS_SECONDS, what="the server to drop bob's key")
    assert time.monotonic() - deleted_at < PASS_SECONDS
    assert alice.repo(stuck['uuid'])['status'] == 'ERROR'


def test_a_served_repo_gitolite_refuses_is_left_out_and_keeps_its_data(world):
    """A repo's directory replaced behind solum-git's back: gitolite's compile
    stops at it, so it is left out and the push is made again without it."""
    api, alice, bob, web, stack = world
    victim = alice.wait_active(alice.create_repo('victim'))
    _push_new_commit(alice, victim, 'keep me')
    repos = _repos_dir(api, stack)
    moved = repos / 'victim.moved'
    os.rename(repos / 'victim.git', moved)
    (repos / 'victim.git').write_text('in the way\n')
    try:
        carol = gitserver.Dev(api, alice.dir.parent, PROJECT, 'carol')
        carol.pin(stack)
        alice.set_member(web, 'carol', 'R')
        failed = _status(alice, victim, 'ERROR')
        assert 'victim' in failed['status_reason']
        # the change that came with it reached the server all the same
        api.wait_applied(PROJECT)
        done, _work = carol.clone(web['git_url'])
        assert done.returncode == 0, done.stderr
        # and nothing removed what is left of the repo
        assert (moved / 'HEAD').is_file()
    finally:
        (repos / 'victim.git').unlink()
        os.rename(moved, repos / 'victim.git')
    recovered = _status(alice, victim, 'ACTIVE')
    done, work = alice.clone(recovered['git_url'])
    assert done.returncode == 0, done.stderr
    assert (work / 'keep-me.txt').read_text() == 'keep me'


def test_a_broken_repo_dir_is_reported_and_repaired_by_an_operator(world):
    """A repo already made whose directory git no longer reads (no HEAD):
    a resync finds it, it goes to ERROR, and comes back when it is repaired."""
    api, alice, bob, web, stack = world
    app = alice.wait_active(alice.create_repo('app'))
    head = _repos_dir(api, stack) / 'app.git' / 'HEAD'
    saved = head.read_text()
    head.unlink()
    try:
        api.resync(alice.api, stack['uuid'])
        failed = _status(alice, app, 'ERROR')
        assert 'not a git repository' in failed['status_reason']
        assert alice.repo(web['uuid'])['status'] == 'ACTIVE'
    finally:
        head.write_text(saved)
        shutil.chown(str(head), *_owner(head.parent))
    _status(alice, app, 'ACTIVE')
    _push_new_commit(alice, app, 'repaired')


def _owner(path):
    st = os.stat(path)
    return st.st_uid, st.st_gid


def test_a_branch_from_before_the_rules_fails_its_repo_only_until_fixed(world):
    """A row written before the API checked branches (here: by SQL) with a
    name git refuses: solum-sync refuses it for that repo alone."""
    api, alice, bob, web, stack = world
    legacy = alice.wait_active(alice.create_repo('legacy'))
    with contextlib.closing(sqlite3.connect(str(api.db_path), timeout=30)) as db:
        db.execute("UPDATE repos SET default_branch = 'a.lock' WHERE uuid = ?",
                   (legacy['uuid'],))
        db.execute('UPDATE stacks SET config_version = config_version + 1 WHERE uuid = ?',
                   (stack['uuid'],))
        db.commit()
    failed = _status(alice, legacy, 'ERROR')
    assert 'bad branch a.lock' in failed['status_reason']
    assert alice.api.get(failed['stack_uri']).json()['status'] == 'ACTIVE'
    other = alice.wait_active(alice.create_repo('fresh'))
    _push_new_commit(alice, other, 'fresh works')
    # the owner fixes it through the API (which checks the new name)
    assert alice.api.put(legacy['uri'], json={'default_branch': 'a.lock'}).status_code == 400
    r = alice.api.put(legacy['uri'], json={'default_branch': 'trunk'})
    assert r.status_code == 200, r.text
    fixed = _status(alice, legacy, 'ACTIVE')
    done, work = alice.clone(fixed['git_url'])
    assert done.returncode == 0, done.stderr
    alice.commit(work, 'on trunk')
    assert alice.push(work, 'HEAD:refs/heads/trunk').returncode == 0
    head = (_repos_dir(api, stack) / 'legacy.git' / 'HEAD').read_text()
    assert head == 'ref: refs/heads/trunk\n'
