"""[provisioner] driver = heat, end to end: the real solum-git-api (engine in process)
asks the fake cloud for the project's git server over Heat's API; the cloud boots
the template's user_data (the real bootstrap) in a namespace VM; then key, repo,
ACTIVE, git push with StrictHostKeyChecking=yes, signed hook callback, local run.
"""
import contextlib
import re
import sqlite3
import subprocess
import types

import pytest

from tests.functional import gitserver
from tests.functional import pushenv
from tests.functional import test_heat_provisioner as vmtest


@pytest.fixture(scope='module')
def e2e(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('heate2e')
    with vmtest.heat_api(tmp) as (cloud, api):
        alice = gitserver.Dev(api, tmp, 'project-heat', 'alice')
        repo = alice.create_repo('app')
        trigger = alice.api.post('/v1/infrastructure/repos/%s/triggers' % repo['uuid'], json={
            'type': 'local', 'config': {'test_cmd': 'test -f first-commit.txt'}})
        assert trigger.status_code == 201, trigger.text
        repo = alice.wait_active(repo, timeout=120)
        stack = alice.pin()
        done, work = alice.clone(repo['git_url'])
        assert done.returncode == 0, done.stderr
        commit = alice.commit(work, 'first commit')
        pushed = alice.git('push', 'origin', 'HEAD:refs/heads/main', cwd=work)
        lines = pushenv.remote_lines(pushed.stderr)
        match = re.search(r'run for main queued: (\S+)', pushed.stderr)
        run = pushenv.wait_run(alice.api, match.group(1)) if match else None
        yield types.SimpleNamespace(cloud=cloud, api=api, alice=alice, repo=repo, stack=stack,
                                    commit=commit, pushed=pushed, lines=lines, run=run)


def test_the_projects_git_server_is_a_heat_stack(e2e):
    stack = e2e.stack
    assert stack['provisioner'] == 'heat'
    assert stack['status'] == 'ACTIVE'
    heat_stack = e2e.cloud.cloud.stacks['solum-git-project-heat']
    assert stack['heat_stack_id'] == heat_stack.id
    assert heat_stack.status == 'CREATE_COMPLETE'
    assert stack['ssh_host_keys'] == [
        '[127.0.0.1]:%d %s' % (stack['ssh_port'], heat_stack.params['host_public_key'])]


def test_git_push_with_host_key_checking_reaches_the_vm(e2e):
    assert e2e.pushed.returncode == 0, e2e.pushed.stderr
    listed = e2e.alice.ls_remote(e2e.repo['git_url'])
    assert '%s\trefs/heads/main' % e2e.commit in listed.stdout


def test_the_vms_hook_calls_back_and_the_pipeline_runs(e2e):
    assert any(line.startswith('solum-git: push recorded: ') for line in e2e.lines), e2e.lines
    assert e2e.run is not None, e2e.pushed.stderr
    assert e2e.run['status'] == 'SUCCESS', e2e.run
    assert e2e.run['commit'] == e2e.commit


def test_https_clone_with_a_deploy_token_trusting_only_the_stacks_ca(e2e):
    alice = e2e.alice
    stack = alice.api.get('/v1/infrastructure/stacks/%s' % e2e.stack['uuid']).json()
    assert stack['http_url'].startswith('https://127.0.0.1:')
    assert stack['http_ca_cert'].startswith('-----BEGIN CERTIFICATE-----')
    ca = alice.dir / 'stack-ca.pem'
    ca.write_text(stack['http_ca_cert'])
    repo = alice.repo(e2e.repo['uuid'])
    assert repo['http_url'] == stack['http_url'] + '/app.git'
    r = alice.api.post('/v1/infrastructure/repos/%s/deploy_tokens' % repo['uuid'],
                       json={'name': 'ci'})
    assert r.status_code == 201, r.text
    url = r.json()['clone_url']
    # without the stack's CA the certificate is not trusted
    done = alice.git('ls-remote', url)
    assert done.returncode != 0 and 'certificate' in done.stderr, done.stderr

    last = []

    def served():
        # the environment's GIT_SSL_CAINFO (this machine's) wins over git -c
        done = subprocess.run(['git', 'ls-remote', url], capture_output=True, text=True,
                              env=dict(alice.env(), GIT_SSL_CAINFO=str(ca)), timeout=60)
        last[:] = [done.stderr]
        return done.returncode == 0 and done.stdout
    try:
        listed = gitserver.wait_for(served, 60, what='the HTTPS front serving the token')
    except AssertionError:
        raise AssertionError('HTTPS clone failed: %s' % last)
    assert '%s\trefs/heads/main' % e2e.commit in listed


def test_the_database_keeps_the_stacks_private_keys_sealed(e2e):
    path = e2e.api.connection[len('sqlite:///'):]
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.row_factory = sqlite3.Row
        row = db.execute('SELECT * FROM stacks WHERE uuid = ?',
                         (e2e.stack['uuid'],)).fetchone()
    # the engine made all four (the VM booted with its host key, HTTPS served)
    for name in ('admin_private_key', 'ssh_host_private_key', 'http_ca_key',
                 'http_tls_key'):
        assert row[name] and row[name].startswith('gAAAAA'), name
    assert 'PRIVATE KEY' not in '\n'.join(str(row[name]) for name in row.keys())


def test_deleting_the_stack_deletes_the_heat_stack(e2e):
    alice = e2e.alice
    assert alice.api.delete('/v1/infrastructure/repos/%s' % e2e.repo['uuid']).status_code == 204
    gitserver.wait_for(lambda: alice.api.get('/v1/infrastructure/stacks/%s'
                                             % e2e.stack['uuid']).status_code != 200 or
                       alice.api.delete('/v1/infrastructure/stacks/%s'
                                        % e2e.stack['uuid']).status_code == 204,
                       timeout=60, what='stack delete accepted')
    gitserver.wait_for(lambda: 'solum-git-project-heat' not in e2e.cloud.cloud.stacks,
                       timeout=60, what='Heat stack deleted')
    gitserver.wait_for(lambda: alice.api.get('/v1/infrastructure/stacks/%s'
                                             % e2e.stack['uuid']).status_code == 404,
                       timeout=60, what='solum-git stack gone')
