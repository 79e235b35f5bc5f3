"""Backups through the Heat provisioner: the real solum-git-api (engine in process)
with [provisioner] driver = heat and the local backup store, its git server a
namespace VM the fake cloud boots from the template's user_data. A push is
backed up; the Heat stack deleted behind solum-git's back (the VM and its
disk gone) comes back, on a resync, with the host key the clients pinned and
the repo restored from its backup.
"""
import types

import pytest

from tests.functional import gitserver
from tests.functional import test_heat_provisioner as vmtest

PROJECT = 'project-heat-backup'


@pytest.fixture(scope='module')
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('heatbackups')
    with vmtest.heat_api(tmp, backup={'local_path': tmp / 'store',
                                      'max_lag': 2}) as (cloud, api):
        alice = gitserver.Dev(api, tmp, PROJECT, 'alice')
        repo = alice.wait_active(alice.create_repo('app'), timeout=120)
        stack = alice.pin()
        done, work = alice.clone(repo['git_url'])
        assert done.returncode == 0, done.stderr
        yield types.SimpleNamespace(cloud=cloud.cloud, api=api, alice=alice, repo=repo,
                                    stack=stack, work=work)


def newest_backup(w):
    r = w.alice.api.get('/v1/infrastructure/repos/%s/backups' % w.repo['uuid'])
    assert r.status_code == 200, r.text
    return (r.json() or [None])[0]


def remote_refs(w):
    listed = w.alice.ls_remote(w.repo['git_url'])
    if listed.returncode != 0:
        return None
    return {ref: sha for sha, ref in (line.split('\t') for line in listed.stdout.splitlines())
            if ref != 'HEAD'}


def push_backed_up(w, message):
    """A push, then the newest backup holding it (each test stands alone under xdist)."""
    sha = w.alice.commit(w.work, message)
    pushed = w.alice.push(w.work)
    assert pushed.returncode == 0, pushed.stderr
    return gitserver.wait_for(
        lambda: (lambda b: b if b and b['refs'].get('refs/heads/main') == sha else None)(
            newest_backup(w)), timeout=60, what='the push backed up')


def test_a_push_to_a_heat_server_is_backed_up(world):
    link = push_backed_up(world, 'on the vm')
    assert link['verified'] is True and link['size_bytes'] > 0
    assert link['refs'] == remote_refs(world)


def test_a_heat_server_lost_whole_comes_back_with_its_host_key_and_repos(world):
    push_backed_up(world, 'before the loss')
    refs = remote_refs(world)
    assert refs and newest_backup(world)['refs'] == refs
    name = 'solum-git-%s' % PROJECT
    old = world.cloud.stacks[name]
    pinned_public = old.params['host_public_key']
    # the VM and its disk gone behind solum-git's back
    world.cloud.delete(old)
    gitserver.wait_for(lambda: name not in world.cloud.stacks, timeout=60,
                       what='the Heat stack gone')
    r = world.alice.api.post('/v1/infrastructure/stacks/%s/actions' % world.stack['uuid'],
                             json={'action': 'resync'})
    assert r.status_code == 202, r.text
    new = gitserver.wait_for(lambda: (lambda s: s if s is not None and s.id != old.id
                                      else None)(world.cloud.stacks.get(name)),
                             timeout=120, what='a new Heat stack')
    # built with the key kept in the database: the clients' pin holds
    assert new.params['host_public_key'] == pinned_public
    # the known_hosts written before the loss, StrictHostKeyChecking=yes
    gitserver.wait_for(lambda: remote_refs(world) == refs, timeout=240,
                       what='the repo back on the rebuilt server')
    # written just after the config that serves it again
    gitserver.wait_for(lambda: 'restored from backup' in (
        world.alice.repo(world.repo['uuid'])['status_reason'] or ''), timeout=30,
        what='the status_reason saying so')
    assert world.alice.stack()['ssh_host_keys'] == world.stack['ssh_host_keys']
    world.alice.commit(world.work, 'after the rebuild')
    pushed = world.alice.push(world.work)
    assert pushed.returncode == 0, pushed.stderr
