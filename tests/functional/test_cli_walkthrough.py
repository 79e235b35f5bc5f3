"""A new user, only `solum-git` and `git`: key, repo, first push, redeployed app.

The real solum-git-api with its engine and the local provisioner (gitolite3
behind its own sshd), real ssh with strict host key checking against the keys
`repo create --add-remote` pinned, and the local runner deploying the app.
The steps are the ones docs/cli.rst prints.
"""
import json
import os
import pwd
import re
import subprocess
import threading
import time

import pytest

from tests.functional import demo_app
from tests.functional import gitserver
from tests import helpers

CLI = os.path.join(helpers.VENV_BIN, 'solum-git')
APP = demo_app.LOGGED_VERSION


class User:
    """A shell with HOME, the CLI's environment and git, as the docs set them up."""

    def __init__(self, api, home):
        self.home = home
        ssh = home / '.ssh'
        ssh.mkdir(mode=0o700, parents=True)
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(('OS_', 'SOLUM_GIT', 'GIT_'))}
        self.env.update(gitserver.ENV_CLEAN)
        self.env.update(
            HOME=str(home), SOLUM_GIT_URL=api.url, OS_PROJECT_ID='demo-project',
            OS_USER_ID='dana', PYTHONWARNINGS='ignore',
            GIT_AUTHOR_NAME='Dana', GIT_AUTHOR_EMAIL='dana@example.com',
            GIT_COMMITTER_NAME='Dana', GIT_COMMITTER_EMAIL='dana@example.com',
            # ssh reads ~ from the password database, not $HOME: name the files
            GIT_SSH_COMMAND='ssh -F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes '
                            '-o IdentityAgent=none -i %s/id_ed25519 '
                            '-o UserKnownHostsFile=%s/known_hosts '
                            '-o GlobalKnownHostsFile=/dev/null '
                            '-o StrictHostKeyChecking=yes' % (ssh, ssh))

    def sh(self, *argv, cwd=None, check=True, timeout=120):
        result = subprocess.run(list(argv), cwd=cwd, env=self.env, capture_output=True,
                                text=True, timeout=timeout)
        if check:
            assert result.returncode == 0, (argv, result.stdout, result.stderr)
        return result

    def cli(self, *args, **kw):
        return self.sh(CLI, *args, **kw)

    def json(self, *args):
        return json.loads(self.cli(*(args + ('-f', 'json'))).stdout)


@pytest.fixture(scope='module')
def walkthrough(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('walkthrough')
    with gitserver.stacks_dir() as stacks:
        api = gitserver.GitApi(tmp, stacks)
        api.start()
        user = User(api, tmp / 'home')
        seen = {}
        try:
            _walk(user, tmp / 'web', seen)
            yield seen
        finally:
            api.stop()


def _walk(user, work, seen):
    user.sh('ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f',
            str(user.home / '.ssh' / 'id_ed25519'))
    seen['key'] = user.json('key', 'add')

    user.sh('git', 'init', '-q', '-b', 'main', str(work))
    (work / 'app.py').write_text(APP)
    (work / 'version.txt').write_text('v1')
    (work / 'test.sh').write_text('echo checking version; grep -q v version.txt\n')
    user.sh('git', 'add', '.', cwd=work)
    user.sh('git', 'commit', '-q', '-m', 'v1', cwd=work)

    started = time.monotonic()
    created = user.cli('repo', 'create', 'web', '--add-remote', str(work), '-f', 'json')
    seen['create_seconds'] = time.monotonic() - started
    seen['repo'] = json.loads(created.stdout)
    seen['create_stderr'] = created.stderr
    seen['remote'] = user.sh('git', 'remote', 'get-url', 'solum', cwd=work).stdout.strip()

    seen['trigger'] = user.json('trigger', 'add', 'web', '--type', 'local',
                                '--test-cmd', 'sh test.sh', '--run-cmd', 'python3 app.py')
    for version in ('v1', 'v2'):
        if version != 'v1':
            (work / 'version.txt').write_text(version)
            user.sh('git', 'commit', '-q', '-am', version, cwd=work)
        pushed = user.sh('git', 'push', 'solum', 'main', cwd=work)
        seen[version + '_push_stderr'] = pushed.stderr
        latest = user.json('push', 'list', 'web', '--limit', '1')[0]
        # what README.rst runs to find the run
        run_uuid = user.cli('run', 'list', 'web', '--limit', '1', '-f', 'value',
                            '-c', 'uuid').stdout.strip()
        assert run_uuid == latest['runs'][0]['uuid']
        seen[version + '_push'] = latest
        seen[version + '_log'] = user.cli('run', 'log', run_uuid, '--follow')
        run = user.json('run', 'show', run_uuid)
        seen[version + '_run'] = run
        seen[version + '_answer'] = demo_app.answer(run['app_url'], timeout=5)
        seen[version + '_app_url'] = run['app_url']
    seen['push_show'] = user.json('push', 'show', 'web', seen['v2_push']['uuid'])
    seen['push_table'] = user.cli('push', 'list', 'web').stdout
    seen['redelivered'] = user.json('run', 'redeliver', seen['v2_run']['uuid'])
    seen['redelivered_log'] = user.cli('run', 'log', seen['v2_run']['uuid'], '--follow')
    seen['redelivered_run'] = user.json('run', 'show', seen['v2_run']['uuid'])
    # README.rst's rollback, as printed
    seen['releases'] = user.cli('release', 'list', 'web').stdout
    v1 = user.cli('release', 'list', 'web', '-f', 'value', '-c', 'run_uuid').stdout
    v1 = v1.strip().splitlines()[-1]
    rollback = user.cli('rollback', v1, '-f', 'value', '-c', 'uuid').stdout.strip()
    seen['rollback_log'] = user.cli('run', 'log', rollback, '--follow')
    seen['rollback_run'] = user.json('run', 'show', rollback)
    seen['rollback_answer'] = demo_app.answer(seen['rollback_run']['app_url'], timeout=5)
    seen['app_log'] = user.cli('app', 'log', 'web', '--tail', '3').stdout
    seen['followed'] = _follow_app_log(user, seen['rollback_run']['app_url'])
    seen['stack'] = user.json('stack', 'show', seen['repo']['stack_uri'].rsplit('/', 1)[1])
    seen['clone'] = user.sh('git', 'clone', '-q', seen['repo']['git_url'],
                            str(work.parent / 'clone'), check=False)
    seen['known_hosts'] = (user.home / '.ssh' / 'known_hosts').read_text().splitlines()
    seen['own_ssh'] = _push_with_ssh_defaults(user, work)


def _follow_app_log(user, app_url):
    """``app log web --follow`` while the app is asked /followed: what it printed."""
    proc = subprocess.Popen([CLI, 'app', 'log', 'web', '--follow', '--tail', '0'],
                            env=user.env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    lines = []

    def read():
        for line in proc.stdout:
            lines.append(line)
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        # asked again until the CLI (which starts in its own time) shows it
        gitserver.wait_for(lambda: demo_app.answer(app_url + 'followed', timeout=5) and any(
            'GET /followed' in line for line in lines), timeout=30, interval=1,
            what='the followed request in app log --follow')
    finally:
        proc.kill()
        proc.wait(10)
        reader.join(10)
    return ''.join(lines)


def _push_with_ssh_defaults(user, work):
    """git push as a user runs it, with no GIT_SSH_COMMAND: ssh reads known_hosts in
    the password database's home, not in $HOME where the CLI pinned the keys. The key
    comes from an agent (ssh would look for it there too)."""
    assert pwd.getpwuid(os.geteuid()).pw_dir != str(user.home)
    agent_sock = user.home / 'agent.sock'
    agent = subprocess.Popen(['ssh-agent', '-D', '-a', str(agent_sock)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        gitserver.wait_for(agent_sock.exists, timeout=10, what='ssh-agent')
        env = {k: v for k, v in user.env.items() if k != 'GIT_SSH_COMMAND'}
        env['SSH_AUTH_SOCK'] = str(agent_sock)
        subprocess.run(['ssh-add', '-q', str(user.home / '.ssh' / 'id_ed25519')], env=env,
                       check=True, capture_output=True, timeout=30)

        def push(*config):
            # no terminal: ssh cannot ask about an unknown host key, it refuses
            return subprocess.run(['git'] + list(config) + ['push', 'solum', 'main'],
                                  cwd=work, env=env, capture_output=True, text=True,
                                  stdin=subprocess.DEVNULL, start_new_session=True,
                                  timeout=120)
        return {'plain ssh': push('-c', 'core.sshCommand=ssh'), 'as set up': push()}
    finally:
        agent.terminate()
        agent.wait(10)


def test_repo_create_waits_for_active_and_pins_the_servers_key(walkthrough):
    repo = walkthrough['repo']
    assert repo['status'] == 'ACTIVE'
    assert walkthrough['remote'] == repo['git_url']
    assert re.search(r'repo web: ACTIVE after \d+\.\ds', walkthrough['create_stderr'])
    stack = walkthrough['stack']
    assert stack['status'] == 'ACTIVE'
    # known_hosts holds exactly the keys the API gave, under the git_url's name
    assert walkthrough['known_hosts'] == [
        ' '.join(line.split()[:3]) for line in stack['ssh_host_keys']]


def test_the_first_push_is_recorded_and_its_run_deploys_the_app(walkthrough):
    assert 'solum-git: push recorded' in walkthrough['v1_push_stderr']
    assert 'local run for main queued' in walkthrough['v1_push_stderr']
    push = walkthrough['v1_push']
    assert push['pusher'] == 'dana'
    assert [r['ref'] for r in push['refs']] == ['refs/heads/main']
    assert 'checking version' in walkthrough['v1_log'].stdout
    run = walkthrough['v1_run']
    assert run['status'] == 'SUCCESS' and run['app_url']
    assert walkthrough['v1_answer'] == 'v1'


def test_the_second_push_redeploys(walkthrough):
    assert walkthrough['v2_run']['status'] == 'SUCCESS'
    assert walkthrough['v2_answer'] == 'v2'
    refs = walkthrough['push_show']['refs']
    assert refs[0]['old'] == walkthrough['v1_push']['refs'][0]['new']
    table = walkthrough['push_table']
    assert 'refs/heads/main %s..' % refs[0]['old'][:10] in table
    assert '%s local SUCCESS' % walkthrough['v2_run']['uuid'] in table


def test_rollback_to_v1_serves_v1_and_the_app_log_shows_its_request(walkthrough):
    assert 'serving' in walkthrough['releases']
    run = walkthrough['rollback_run']
    assert run['status'] == 'SUCCESS', (run, walkthrough['rollback_log'].stdout)
    assert run['rollback_of'] == walkthrough['v1_run']['uuid']
    assert 'rolling back to release 1' in walkthrough['rollback_log'].stdout
    assert walkthrough['rollback_answer'] == 'v1'
    # http.server logs each request on stderr: the app log has the one just made
    assert '"GET / HTTP/1.1" 200' in walkthrough['app_log'], walkthrough['app_log']
    assert '"GET /followed HTTP/1.1" 200' in walkthrough['followed']


def test_run_redeliver_runs_it_again(walkthrough):
    assert walkthrough['redelivered']['status'] == 'QUEUED'
    assert walkthrough['redelivered_run']['status'] == 'SUCCESS'
    assert 'checking version' in walkthrough['redelivered_log'].stdout


def test_clone_verifies_the_pinned_host_key(walkthrough):
    assert walkthrough['clone'].returncode == 0, walkthrough['clone'].stderr


def test_git_push_finds_the_pinned_keys_when_home_is_not_the_passwd_home(walkthrough):
    """HOME is not the password database's home (sudo -E does that): ssh on its own
    does not find the keys pinned under $HOME; the work tree's core.sshCommand does."""
    assert 'reads them there (core.sshCommand)' in walkthrough['create_stderr']
    plain, set_up = walkthrough['own_ssh']['plain ssh'], walkthrough['own_ssh']['as set up']
    assert plain.returncode != 0 and 'Host key verification failed' in plain.stderr
    assert set_up.returncode == 0, set_up.stderr
