"""A project's git server is born with its first repo and dies with its last
(or on request): sshd stopped, its directory and the admin clone removed.
"""
import os
import subprocess

import pytest

from tests.functional import gitserver


@pytest.fixture
def api(tmp_path):
    with gitserver.running_api(tmp_path) as server:
        yield server


def _gone(client, stack_uuid):
    return client.get('/v1/infrastructure/stacks/%s' % stack_uuid).status_code == 404


def test_stack_goes_with_its_last_repo_and_comes_back_new(api, tmp_path):
    alice = gitserver.Dev(api, tmp_path, 'project-l', 'alice')
    first = alice.wait_active(alice.create_repo('one'))
    stack = alice.pin()
    root = os.path.join(api.stacks_path, stack['uuid'])
    admin = tmp_path / 'state' / 'admin' / stack['uuid']
    assert os.path.isdir(root) and gitserver.sshd_pids(root) and admin.is_dir()

    r = alice.api.delete('/v1/infrastructure/repos/%s' % first['uuid'])
    assert r.status_code == 204, r.text
    gitserver.wait_for(lambda: _gone(alice.api, stack['uuid']), timeout=60,
                       what='the stack deleted')
    assert not gitserver.sshd_pids(root)
    assert not os.path.exists(root)
    assert not admin.exists()
    assert alice.ls_remote(first['git_url']).returncode != 0

    again = alice.wait_active(alice.create_repo('two'))
    new_stack = alice.pin()
    assert new_stack['uuid'] != stack['uuid']
    done, work = alice.clone(again['git_url'])
    assert done.returncode == 0, done.stderr
    alice.commit(work, 'on the new server')
    assert alice.push(work).returncode == 0


def test_stack_made_and_deleted_on_request(api, tmp_path):
    bob = gitserver.Dev(api, tmp_path, 'project-s', 'bob')
    r = bob.api.post('/v1/infrastructure/stacks', json={'name': 'mine'})
    assert r.status_code == 201, r.text
    stack = r.json()
    assert stack['status'] == 'BUILDING'

    def active():
        view = bob.api.get('/v1/infrastructure/stacks/%s' % stack['uuid']).json()
        assert view['status'] != 'ERROR', view['status_reason']
        return view if view['status'] == 'ACTIVE' else None
    view = gitserver.wait_for(active, timeout=60, what='the stack ACTIVE')
    assert view['ssh_host_keys']
    root = os.path.join(api.stacks_path, stack['uuid'])
    assert gitserver.sshd_pids(root)

    r = bob.api.delete('/v1/infrastructure/stacks/%s' % stack['uuid'])
    assert r.status_code in (202, 204), r.text
    gitserver.wait_for(lambda: _gone(bob.api, stack['uuid']), timeout=60,
                       what='the stack deleted')
    assert not gitserver.sshd_pids(root) and not os.path.exists(root)


def test_many_changes_are_coalesced_into_few_admin_pushes(api, tmp_path):
    carol = gitserver.Dev(api, tmp_path, 'project-c', 'carol')
    carol.wait_active(carol.create_repo('first'))
    stack = carol.stack()
    admin_git = str(api.home(stack['uuid']) / 'repositories' / 'gitolite-admin.git')

    def commits():
        done = subprocess.run(['git', '--git-dir', admin_git, 'rev-list', '--count',
                               'master'], capture_output=True, text=True, check=True)
        return int(done.stdout)
    before = commits()
    repos = [carol.create_repo('r%02d' % i) for i in range(12)]
    for repo in repos:
        carol.wait_active(repo)
    pushes = commits() - before
    assert 1 <= pushes < 12, pushes
