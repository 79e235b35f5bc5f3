"""The access matrix, enforced by the git server itself and tried with real git.

One solum-git-api, two projects. In project-a alice owns "web" (RW+), bob may
push (RW), carol may read (R), dave has a key but no access; erin in
project-b has her own server.
"""
import re
import types

import pytest

from tests.functional import gitserver

PROJECT_A, PROJECT_B = 'project-a', 'project-b'


@pytest.fixture(scope='module')
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('access')
    with gitserver.stacks_dir() as stacks:
        api = gitserver.GitApi(tmp, stacks)
        api.start()
        try:
            w = types.SimpleNamespace(api=api, tmp=tmp)
            for user in ('alice', 'bob', 'carol', 'dave'):
                setattr(w, user, gitserver.Dev(api, tmp, PROJECT_A, user))
            w.erin = gitserver.Dev(api, tmp, PROJECT_B, 'erin')
            w.web = w.alice.create_repo('web')
            w.alice.set_member(w.web, 'bob', 'RW')
            w.alice.set_member(w.web, 'carol', 'R')
            # dave gets a repo of his own, so his key is on the server
            w.dave_repo = w.dave.create_repo('dave-notes')
            w.erin_repo = w.erin.create_repo('shop')
            w.alice.wait_active(w.web)
            w.dave.wait_active(w.dave_repo)
            w.erin.wait_active(w.erin_repo)
            api.wait_applied(PROJECT_A)
            w.stack_a = w.alice.pin()
            for dev in (w.bob, w.carol, w.dave):
                dev.pin(w.stack_a)
            w.stack_b = w.erin.pin()
            # history to work on: main with two commits, a feature branch, a tag
            done, work = w.alice.clone(w.web['git_url'], 'seed')
            assert done.returncode == 0, done.stderr
            w.alice.commit(work, 'one')
            w.alice.commit(work, 'two')
            assert w.alice.git('tag', 'v1', cwd=work).returncode == 0
            done = w.alice.push(work, 'HEAD:refs/heads/main', 'HEAD:refs/heads/feature',
                                'refs/tags/v1')
            assert done.returncode == 0, done.stderr
            yield w
        finally:
            api.stop()


def _heads(dev, url):
    done = dev.ls_remote(url)
    assert done.returncode == 0, done.stderr
    return {ref: sha for sha, ref in (line.split('\t') for line in done.stdout.splitlines())}


def _denied(done):
    return done.returncode != 0 and 'DENIED' in done.stderr


def test_reader_clones_but_cannot_push_branch_or_tag(world):
    carol = world.carol
    done, work = carol.clone(world.web['git_url'])
    assert done.returncode == 0, done.stderr
    carol.commit(work, 'carol was here')
    assert _denied(carol.push(work, 'HEAD:refs/heads/main'))
    assert _denied(carol.push(work, 'HEAD:refs/heads/carol-branch'))
    assert carol.git('tag', 'carol-tag', cwd=work).returncode == 0
    assert _denied(carol.push(work, 'refs/tags/carol-tag'))
    assert 'refs/heads/carol-branch' not in _heads(carol, world.web['git_url'])


def test_writer_pushes_and_branches_but_cannot_rewind_or_delete(world):
    bob, url = world.bob, world.web['git_url']
    done, work = bob.clone(url)
    assert done.returncode == 0, done.stderr
    new = bob.commit(work, 'bob adds')
    assert bob.push(work, 'HEAD:refs/heads/main').returncode == 0
    assert bob.push(work, 'HEAD:refs/heads/bob-topic').returncode == 0
    heads = _heads(bob, url)
    assert heads['refs/heads/main'] == new and heads['refs/heads/bob-topic'] == new

    assert bob.git('reset', '-q', '--hard', 'HEAD~2', cwd=work).returncode == 0
    assert _denied(bob.push(work, 'HEAD:refs/heads/main', force=True))
    assert _denied(bob.push(work, ':refs/heads/feature'))
    # moving an existing tag is a rewind too
    assert bob.git('tag', '-f', 'v1', cwd=work).returncode == 0
    assert _denied(bob.push(work, 'refs/tags/v1', force=True))
    after = _heads(bob, url)
    assert after['refs/heads/main'] == new and 'refs/heads/feature' in after
    assert after['refs/tags/v1'] == heads['refs/tags/v1']


def test_owner_force_pushes_and_deletes_branches(world):
    alice, url = world.alice, world.web['git_url']
    done, work = alice.clone(url)
    assert done.returncode == 0, done.stderr
    assert alice.git('reset', '-q', '--hard', 'HEAD~1', cwd=work).returncode == 0
    rewound = alice.git('rev-parse', 'HEAD', cwd=work).stdout.strip()
    done = alice.push(work, 'HEAD:refs/heads/main', force=True)
    assert done.returncode == 0, done.stderr
    done = alice.push(work, ':refs/heads/feature')
    assert done.returncode == 0, done.stderr
    heads = _heads(alice, url)
    assert heads['refs/heads/main'] == rewound and 'refs/heads/feature' not in heads


def test_user_without_access_cannot_tell_the_repo_exists(world):
    dave, url = world.dave, world.web['git_url']
    missing = url.rsplit('/', 1)[0] + '/no-such-repo'
    existing, absent = dave.ls_remote(url), dave.ls_remote(missing)
    assert existing.returncode != 0 and absent.returncode != 0
    assert existing.stderr.replace('web', 'X') == absent.stderr.replace('no-such-repo', 'X')
    info = dave.ssh(url, 'info')
    assert info.returncode == 0, info.stderr
    assert 'dave-notes' in info.stdout
    assert not re.search(r'\bweb\b', info.stdout)
    # and the API answers 404, as for a repo that does not exist
    assert dave.api.get('/v1/infrastructure/repos/%s' % world.web['uuid']).status_code == 200
    assert world.erin.api.get('/v1/infrastructure/repos/%s'
                              % world.web['uuid']).status_code == 404


def test_only_solum_git_reaches_gitolite_admin_and_its_commands(world):
    alice, url = world.alice, world.web['git_url']
    admin_url = url.rsplit('/', 1)[0] + '/gitolite-admin'
    assert _denied(alice.ls_remote(admin_url))
    for command in (('solum-sync', 'repos'), ('solum-sync', 'check', '--fix'),
                    ('solum-sync', 'rm', 'web'), ('solum-flush',)):
        done = alice.ssh(url, *command)
        assert done.returncode != 0, command
        assert 'only the admin' in done.stderr, (command, done.stderr)
    # a command gitolite does not enable is refused before it runs
    done = alice.ssh(url, 'D', 'rm', 'web')
    assert done.returncode != 0
    assert 'refs/heads/main' in _heads(alice, url)


def test_projects_are_isolated_by_server_and_by_key(world):
    a, b = world.stack_a, world.stack_b
    assert a['uuid'] != b['uuid'] and a['ssh_port'] != b['ssh_port']
    assert a['ssh_host_keys'] != b['ssh_host_keys']
    assert world.erin.api.get('/v1/infrastructure/stacks/%s' % a['uuid']).status_code == 404
    assert [s['uuid'] for s in world.erin.api.get('/v1/infrastructure/stacks').json()] \
        == [b['uuid']]
    # erin's key opens nothing on project-a's server, alice's nothing on project-b's
    erin = world.erin
    erin.pin(a)
    try:
        done = erin.ls_remote(world.web['git_url'])
        assert done.returncode != 0 and 'Permission denied (publickey)' in done.stderr
    finally:
        erin.pin(b)
    alice = world.alice
    alice.pin(b)
    try:
        done = alice.ls_remote(world.erin_repo['git_url'])
        assert done.returncode != 0 and 'Permission denied (publickey)' in done.stderr
    finally:
        alice.pin(a)
    assert erin.ls_remote(world.erin_repo['git_url']).returncode == 0


def test_removed_member_and_deleted_key_lose_access(world):
    alice, api = world.alice, world.api
    frank = gitserver.Dev(api, world.tmp, PROJECT_A, 'frank.o-k_1')
    grace = gitserver.Dev(api, world.tmp, PROJECT_A, 'grace')
    ops = alice.create_repo('ops')
    alice.set_member(ops, frank.user, 'RW')
    alice.set_member(ops, grace.user, 'RW')
    alice.wait_active(ops)
    api.wait_applied(PROJECT_A)
    frank.pin(world.stack_a)
    grace.pin(world.stack_a)
    for dev in (frank, grace):
        done, work = dev.clone(ops['git_url'])
        assert done.returncode == 0, done.stderr
        dev.commit(work, '%s pushes' % dev.user)
        done = dev.push(work, 'HEAD:refs/heads/%s' % dev.user)
        assert done.returncode == 0, done.stderr

    alice.remove_member(ops, frank.user)
    r = grace.api.delete('/v1/infrastructure/keys/%s' % grace.key_uuid)
    assert r.status_code == 204, r.text
    api.wait_applied(PROJECT_A)
    # neither has access to any repo here now: their keys are gone from the server
    for dev in (frank, grace):
        done = dev.ls_remote(ops['git_url'])
        assert done.returncode != 0 and 'Permission denied (publickey)' in done.stderr, \
            (dev.user, done.stderr)

    # a new key for grace works again after the next apply; frank stays out
    grace.upload_key()
    api.wait_applied(PROJECT_A)
    assert grace.ls_remote(ops['git_url']).returncode == 0
    assert frank.ls_remote(ops['git_url']).returncode != 0


def test_permission_change_applies_both_ways(world):
    alice, carol, api = world.alice, world.carol, world.api
    url = world.web['git_url']
    done, work = carol.clone(url)
    assert done.returncode == 0, done.stderr
    carol.commit(work, 'carol promoted')
    alice.set_member(world.web, 'carol', 'RW')
    api.wait_applied(PROJECT_A)
    assert carol.push(work, 'HEAD:refs/heads/carol-work').returncode == 0
    alice.set_member(world.web, 'carol', 'R')
    api.wait_applied(PROJECT_A)
    carol.commit(work, 'carol demoted')
    assert _denied(carol.push(work, 'HEAD:refs/heads/carol-work'))


def test_deleted_repo_is_removed_from_the_server(world):
    alice, api = world.alice, world.api
    tmp_repo = alice.wait_active(alice.create_repo('scratch'))
    done, work = alice.clone(tmp_repo['git_url'])
    assert done.returncode == 0, done.stderr
    alice.commit(work, 'secret')
    assert alice.push(work).returncode == 0
    bare = api.home(world.stack_a['uuid']) / 'repositories' / 'scratch.git'
    assert bare.is_dir()

    r = alice.api.delete('/v1/infrastructure/repos/%s' % tmp_repo['uuid'])
    assert r.status_code == 204, r.text
    api.wait_applied(PROJECT_A)
    assert not bare.exists()
    # the same name again is a new, empty repo: nothing of the old one comes back
    again = alice.wait_active(alice.create_repo('scratch'))
    assert again['uuid'] != tmp_repo['uuid']
    listed = alice.ls_remote(again['git_url'])
    assert listed.returncode == 0 and listed.stdout == '', listed.stdout


def test_repo_deleted_and_made_again_in_one_pass_starts_empty(world):
    alice, api = world.alice, world.api
    old = alice.wait_active(alice.create_repo('twice'))
    done, work = alice.clone(old['git_url'])
    assert done.returncode == 0, done.stderr
    alice.commit(work, 'the old one')
    assert alice.push(work).returncode == 0
    api.wait_applied(PROJECT_A)
    # both changes reach the engine together: one render, one push
    api.hold_lease(PROJECT_A)
    try:
        r = alice.api.delete('/v1/infrastructure/repos/%s' % old['uuid'])
        assert r.status_code == 204, r.text
        new = alice.create_repo('twice')
    finally:
        api.hold_lease(PROJECT_A, hold=False)
    alice.wait_active(new)
    api.wait_applied(PROJECT_A)
    listed = alice.ls_remote(new['git_url'])
    assert listed.returncode == 0 and listed.stdout == '', listed.stdout
