"""From ssh-keygen to git push: a real solum-git-api, gitolite3, sshd and git."""
import pytest

from tests.functional import gitserver


@pytest.fixture
def api(tmp_path):
    with gitserver.running_api(tmp_path) as server:
        yield server


def test_new_user_pushes_with_host_key_checking(api, tmp_path):
    alice = gitserver.Dev(api, tmp_path, 'project-a', 'alice')
    repo = alice.create_repo('app')
    assert repo['status'] == 'BUILDING'
    repo = alice.wait_active(repo)
    stack = alice.pin()
    assert stack['status'] == 'ACTIVE'
    assert stack['ssh_host'] == '127.0.0.1'
    assert repo['git_url'] == 'ssh://%s@127.0.0.1:%d/app' % (stack['ssh_user'],
                                                             stack['ssh_port'])
    assert stack['ssh_host_keys'][0].startswith('[127.0.0.1]:%d ssh-ed25519 '
                                                % stack['ssh_port'])

    done, work = alice.clone(repo['git_url'])
    assert done.returncode == 0, done.stderr
    commit = alice.commit(work, 'first commit')
    done = alice.push(work)
    assert done.returncode == 0, done.stderr
    listed = alice.ls_remote(repo['git_url'])
    assert '%s\trefs/heads/main' % commit in listed.stdout
    # the server's HEAD is main, so a fresh clone checks the commit out
    done, again = alice.clone(repo['git_url'])
    assert done.returncode == 0 and 'warning' not in done.stderr, done.stderr
    assert (again / 'first-commit.txt').read_text() == 'first commit'


def test_a_server_with_another_host_key_is_refused(api, tmp_path):
    alice = gitserver.Dev(api, tmp_path, 'project-a', 'alice')
    repo = alice.wait_active(alice.create_repo('app'))
    stack = alice.pin()
    # the same address with a key the API did not give: ssh must not connect
    other = gitserver.Dev(api, tmp_path, 'project-x', 'xavier', key=False)
    host = stack['ssh_host_keys'][0].split()[0]
    forged = open(str(other.key) + '.pub').read().split()[:2]
    alice.known_hosts.write_text('%s %s\n' % (host, ' '.join(forged)))
    done, _work = alice.clone(repo['git_url'])
    assert done.returncode != 0
    assert 'Host key verification failed' in done.stderr


def test_default_branch_is_what_a_clone_checks_out(api, tmp_path):
    alice = gitserver.Dev(api, tmp_path, 'project-b', 'alice')
    r = alice.api.post('/v1/infrastructure/repos',
                       json={'name': 'lib', 'default_branch': 'develop'})
    assert r.status_code == 201, r.text
    repo = alice.wait_active(r.json())
    alice.pin()
    done, work = alice.clone(repo['git_url'])
    assert done.returncode == 0, done.stderr
    alice.commit(work, 'on develop')
    alice.git('branch', '-f', 'release', cwd=work)
    done = alice.push(work, 'HEAD:refs/heads/develop', 'HEAD:refs/heads/release')
    assert done.returncode == 0, done.stderr
    done, again = alice.clone(repo['git_url'])
    assert done.returncode == 0, done.stderr
    assert alice.git('rev-parse', '--abbrev-ref', 'HEAD', cwd=again).stdout.strip() == 'develop'

    r = alice.api.put('/v1/infrastructure/repos/%s' % repo['uuid'],
                      json={'default_branch': 'release'})
    assert r.status_code == 200, r.text
    api.wait_applied('project-b')
    done, third = alice.clone(repo['git_url'])
    assert done.returncode == 0, done.stderr
    assert alice.git('rev-parse', '--abbrev-ref', 'HEAD', cwd=third).stdout.strip() == 'release'


def test_a_push_works_while_the_database_keeps_no_private_key_in_clear(api, tmp_path):
    alice = gitserver.Dev(api, tmp_path, 'project-k', 'alice')
    repo = alice.wait_active(alice.create_repo('app'))
    alice.pin()
    done, work = alice.clone(repo['git_url'])
    assert done.returncode == 0, done.stderr
    commit = alice.commit(work, 'first commit')
    done = alice.push(work)
    assert done.returncode == 0, done.stderr
    assert '%s\trefs/heads/main' % commit in alice.ls_remote(repo['git_url']).stdout
    # what a dump of the database gives: the keys are there, sealed
    row = api.stack_row('project-k')
    assert row['admin_private_key'] and row['ssh_host_private_key']
    assert row['admin_private_key'].startswith('gAAAAA')
    dumped = '\n'.join(str(row[name]) for name in row.keys())
    assert 'PRIVATE KEY' not in dumped
