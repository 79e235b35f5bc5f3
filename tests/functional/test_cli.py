"""The real `solum-git` CLI (a subprocess) against the real solum-git-api process.

One API serves the whole module; its pages are tiny (max_limit = 3) so every
list the CLI prints has to follow the API's ``Link: rel="next"`` headers.
"""
import json
import os
import pty
import re
import subprocess
import time

import pytest
import requests
import sqlalchemy as sa

from tests import helpers

CLI = os.path.join(helpers.VENV_BIN, 'solum-git')
PROJECT = 'cli-project'


class Cli:
    def __init__(self, url, home, project=PROJECT, user='alice', db_url=None):
        self.home = home
        self.db_url = db_url
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(('OS_', 'SOLUM_GIT'))}
        self.env.update(HOME=str(home), SOLUM_GIT_URL=url, OS_PROJECT_ID=project,
                        OS_USER_ID=user, PYTHONWARNINGS='ignore')

    def popen(self, *args, **env):
        return subprocess.Popen([CLI] + list(args), env=dict(self.env, **env),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)

    def run(self, *args, check=True, **env):
        result = subprocess.run([CLI] + list(args), env=dict(self.env, **env),
                                capture_output=True, text=True, timeout=60)
        if check:
            assert result.returncode == 0, (args, result.stdout, result.stderr)
        return result

    def json(self, *args, **env):
        return json.loads(self.run(*(args + ('-f', 'json')), **env).stdout)

    def value(self, *args, **env):
        return self.run(*(args + ('-f', 'value')), **env).stdout.strip()

    def fails(self, *args, **env):
        """A refused command: exit 1 and one line on stderr, no traceback."""
        result = self.run(*args, check=False, **env)
        assert result.returncode == 1, (args, result.stdout, result.stderr)
        assert 'Traceback' not in result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        return lines[0]


@pytest.fixture(scope='module')
def api(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('cli-api')
    with helpers.database('sqlite', tmp) as url:
        # no engine: repo status stays where the tests put it
        proc = helpers.ApiProcess(tmp, url, extra={
            'engine': {'in_process': 'false'},
            'api': {'max_limit': 3, 'default_limit': 3}})
        proc.db_url = url
        proc.manage('db', 'upgrade')
        proc.start()
        yield proc
        proc.stop()


@pytest.fixture(scope='module')
def home(tmp_path_factory):
    return tmp_path_factory.mktemp('home')


@pytest.fixture(scope='module')
def cli(api, home):
    return Cli(api.url, home, db_url=api.db_url)


@pytest.fixture(scope='module')
def db(api):
    engine = sa.create_engine(api.db_url)
    yield engine
    engine.dispose()


def keygen(path, type_='ed25519', comment='alice@laptop'):
    path.parent.mkdir(mode=0o700, exist_ok=True)
    subprocess.run(['ssh-keygen', '-q', '-t', type_, '-N', '', '-C', comment, '-f',
                    str(path)], check=True)
    fingerprint = subprocess.run(['ssh-keygen', '-l', '-E', 'sha256', '-f',
                                  str(path) + '.pub'], check=True, capture_output=True,
                                 text=True).stdout.split()[1]
    return fingerprint


def set_repo(db, name, **values):
    with db.begin() as conn:
        conn.execute(sa.text('UPDATE repos SET %s WHERE name = :name AND project_id = '
                             ':project' % ', '.join('%s = :%s' % (k, k) for k in values)),
                     dict(values, name=name, project=PROJECT))


def wait_for_row(db, name, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with db.connect() as conn:
            if conn.execute(sa.text('SELECT 1 FROM repos WHERE name = :n'),
                            {'n': name}).first():
                return
        time.sleep(0.05)
    raise AssertionError('repo %s was never created' % name)


# -- keys --------------------------------------------------------------------

def test_key_add_takes_ed25519_before_rsa_and_key_list_delete(cli, home):
    ssh = home / '.ssh'
    keygen(ssh / 'id_rsa', 'rsa')
    fingerprint = keygen(ssh / 'id_ed25519')
    key = cli.json('key', 'add')
    assert key['fingerprint'] == fingerprint
    assert key['type'] == 'ssh-ed25519' and key['name'] == 'alice@laptop'
    listed = cli.json('key', 'list')
    assert [k['fingerprint'] for k in listed] == [fingerprint]
    rsa = cli.json('key', 'add', '--name', 'old-rsa', str(ssh / 'id_rsa.pub'))
    assert rsa['name'] == 'old-rsa'
    assert cli.value('key', 'show', 'old-rsa', '-c', 'fingerprint') == rsa['fingerprint']
    cli.run('key', 'delete', 'old-rsa')
    cli.run('key', 'delete', fingerprint)
    assert cli.json('key', 'list') == []


def test_key_add_never_sends_a_private_key(cli, tmp_path):
    private = tmp_path / 'keys' / 'id_ed25519'
    keygen(private)
    before = cli.json('key', 'list')
    assert 'private key' in cli.fails('key', 'add', str(private))
    assert 'no such file' in cli.fails('key', 'add', str(tmp_path / 'nope.pub')).lower()
    assert cli.json('key', 'list') == before


def test_key_add_with_no_default_key_says_what_to_do(cli, tmp_path):
    message = cli.fails('key', 'add', HOME=str(tmp_path))
    assert 'id_ed25519.pub' in message and 'PUBLIC_KEY_FILE' in message


def test_key_add_garbage_shows_the_api_rule(cli, tmp_path):
    bad = tmp_path / 'bad.pub'
    bad.write_text('ssh-ed25519 not-base64!!\n')
    assert 'public_key' in cli.fails('key', 'add', str(bad))


# -- repos -------------------------------------------------------------------

def test_repo_create_no_wait_prints_git_url(cli, api):
    url = cli.value('repo', 'create', 'web', '--no-wait', '-c', 'git_url')
    assert url.startswith('ssh://') and url.endswith(':%s/web' % url.rsplit(':', 1)[1]
                                                     .split('/')[0])
    repo = cli.json('repo', 'show', 'web')
    assert repo['status'] == 'BUILDING' and repo['git_url'] == url
    assert cli.json('repo', 'show', repo['uuid'])['name'] == 'web'


def test_repo_create_waits_with_progress_until_active_and_adds_remote(cli, db, tmp_path,
                                                                      home):
    work = tmp_path / 'app'
    subprocess.run(['git', 'init', '-q', str(work)], check=True)
    host_key = tmp_path / 'host_key'
    keygen(host_key, comment='root@gitserver')
    host_line = (tmp_path / 'host_key.pub').read_text().strip()
    # a stale line for the same server must go; another host's line must stay
    known_hosts = home / '.ssh' / 'known_hosts'
    known_hosts.parent.mkdir(mode=0o700, exist_ok=True)
    proc = cli.popen('repo', 'create', 'api', '--description', 'the API',
                     '--add-remote', str(work), '-f', 'json')
    wait_for_row(db, 'api')
    with db.begin() as conn:
        stack = conn.execute(sa.text(
            'SELECT ssh_host, ssh_port FROM stacks WHERE project_id = :p'),
            {'p': PROJECT}).one()
        pattern = '[%s]:%d' % (stack.ssh_host, stack.ssh_port)
        known_hosts.write_text('%s ssh-ed25519 AAAAstale\nother.example ssh-rsa AAAAx\n'
                               % pattern)
        conn.execute(sa.text('UPDATE stacks SET ssh_host_keys = :k WHERE project_id = '
                             ':p'), {'k': host_line, 'p': PROJECT})
    time.sleep(1.0)
    assert proc.poll() is None, proc.communicate()
    set_repo(db, 'api', status='ACTIVE')
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    repo = json.loads(out)
    assert repo['status'] == 'ACTIVE' and repo['description'] == 'the API'
    assert 'repo api: BUILDING' in err and 'repo api: ACTIVE after' in err
    remote_url = subprocess.run(['git', '-C', str(work), 'remote', 'get-url', 'solum'],
                                capture_output=True, text=True, check=True).stdout
    assert remote_url.strip() == repo['git_url']
    lines = known_hosts.read_text().splitlines()
    key_type, key_blob = host_line.split()[:2]
    assert lines == ['other.example ssh-rsa AAAAx',
                     '%s %s %s' % (pattern, key_type, key_blob)]
    # ssh itself finds the pinned key under the name it will look up
    found = subprocess.run(['ssh-keygen', '-F', pattern, '-f', str(known_hosts)],
                           capture_output=True, text=True)
    assert key_blob in found.stdout


def test_repo_create_shows_a_spinner_on_a_terminal(cli, db):
    controller, terminal = pty.openpty()
    proc = subprocess.Popen([CLI, 'repo', 'create', 'spun', '-f', 'value', '-c',
                             'status'], env=cli.env, stdout=subprocess.PIPE,
                            stderr=terminal, text=True)
    os.close(terminal)
    wait_for_row(db, 'spun')
    time.sleep(1.0)
    set_repo(db, 'spun', status='ACTIVE')
    out, _ = proc.communicate(timeout=30)
    seen = b''
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.close(controller)
    assert proc.returncode == 0 and out.strip() == 'ACTIVE'
    text = seen.decode()
    assert re.search(r'\r[|/\\-] repo spun: BUILDING \(\d+s\)', text), text
    assert re.search(r'repo spun: ACTIVE after \d+\.\ds', text), text


def test_repo_create_add_remote_checks_the_work_tree_first(cli, tmp_path):
    message = cli.fails('repo', 'create', 'never', '--no-wait', '--add-remote',
                        str(tmp_path))
    assert 'not a git work tree' in message
    assert 'repo never not found' in cli.fails('repo', 'show', 'never')


def test_add_remote_repoints_an_existing_solum_remote(cli, tmp_path):
    work = tmp_path / 'moved'
    subprocess.run(['git', 'init', '-q', str(work)], check=True)
    subprocess.run(['git', '-C', str(work), 'remote', 'add', 'solum', 'ssh://old/x'],
                   check=True)
    result = cli.run('repo', 'create', 'moved', '--no-wait', '--add-remote', str(work),
                     '-f', 'value', '-c', 'git_url')
    url = result.stdout.strip()
    assert 'remote "solum" -> %s (was ssh://old/x)' % url in result.stderr
    assert subprocess.run(['git', '-C', str(work), 'remote', 'get-url', 'solum'],
                          capture_output=True, text=True).stdout.strip() == url


def test_repo_create_shows_error_status_and_reason(cli, db):
    proc = cli.popen('repo', 'create', 'broken')
    wait_for_row(db, 'broken')
    set_repo(db, 'broken', status='ERROR', status_reason='disk full on the git server')
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert 'Traceback' not in err
    assert 'repo broken is ERROR: disk full on the git server' in err


def test_repo_create_wait_timeout(cli):
    result = cli.run('repo', 'create', 'slow', '--wait-timeout', '1', check=False)
    assert result.returncode == 1 and 'Traceback' not in result.stderr
    assert result.stderr.splitlines() == [
        'repo slow: BUILDING',
        'repo slow is still BUILDING after 1s; see "repo show slow" later']


def test_api_errors_are_one_line(cli):
    cli.run('repo', 'create', 'dup', '--no-wait')
    assert 'already exists' in cli.fails('repo', 'create', 'dup', '--no-wait')
    message = cli.fails('repo', 'create', 'bad..name', '--no-wait')
    assert message.startswith('name: must') and 'HTTP 400' in message
    assert 'repo nope not found' in cli.fails('repo', 'show', 'nope')


def test_repo_list_follows_pages_and_limit_gives_one(cli, api):
    client = helpers.Client(api.url, 'many-project', 'carol')
    for i in range(7):
        assert client.post('/v1/infrastructure/repos', {'name': 'r%d' % i}
                           ).status_code == 201
    env = {'OS_PROJECT_ID': 'many-project', 'OS_USER_ID': 'carol'}
    names = cli.value('repo', 'list', '-c', 'name', **env).split()
    assert names == ['r6', 'r5', 'r4', 'r3', 'r2', 'r1', 'r0']
    assert cli.value('repo', 'list', '--limit', '2', '-c', 'name', **env).split() == [
        'r6', 'r5']
    asc = cli.value('repo', 'list', '--sort-key', 'name', '--sort-dir', 'asc',
                    '-c', 'name', **env).split()
    assert asc == sorted(names)
    # a name is found even when it is on the last page: the API filters by name
    assert cli.json('repo', 'show', 'r0', **env)['name'] == 'r0'
    found = client.get('/v1/infrastructure/repos', params={'name': 'r0'}).json()
    assert [r['name'] for r in found] == ['r0']
    assert client.get('/v1/infrastructure/repos', params={'name': 'x' * 101}
                      ).status_code == 400
    cli.run('repo', 'delete', 'r0', **env)
    assert 'r0' not in cli.value('repo', 'list', '-c', 'name', **env).split()


def test_other_projects_repos_are_not_found(cli):
    cli.run('repo', 'create', 'secret', '--no-wait')
    uuid = cli.value('repo', 'show', 'secret', '-c', 'uuid')
    env = {'OS_PROJECT_ID': 'other-project', 'OS_USER_ID': 'mallory'}
    assert 'not found' in cli.fails('repo', 'show', uuid, **env)
    assert 'not found' in cli.fails('repo', 'delete', 'secret', **env)


# -- members -----------------------------------------------------------------

def test_member_set_list_remove(cli):
    cli.run('repo', 'create', 'team', '--no-wait')
    member = cli.json('member', 'set', 'team', 'bob', 'RW')
    assert member['permission'] == 'RW' and member['user_id'] == 'bob'
    cli.run('member', 'set', 'team', 'bob', 'R')
    members = {m['user_id']: m['permission'] for m in cli.json('member', 'list', 'team')}
    assert members == {'alice': 'RW+', 'bob': 'R'}
    # bob (R) may not change members: the API's 403 as one line
    assert 'RW+' in cli.fails('member', 'set', 'team', 'eve', 'RW', OS_USER_ID='bob')
    cli.run('member', 'remove', 'team', 'bob')
    assert [m['user_id'] for m in cli.json('member', 'list', 'team')] == ['alice']


def test_member_arguments_cannot_escape_the_url(cli):
    cli.run('repo', 'create', 'keepme', '--no-wait')
    # ".." would turn DELETE .../members/.. into DELETE the repo itself
    assert 'not a valid' in cli.fails('member', 'remove', 'keepme', '..')
    result = cli.run('member', 'set', 'keepme', 'x', 'RWX', check=False)
    assert result.returncode == 2 and 'invalid choice' in result.stderr
    cli.fails('member', 'remove', 'keepme', 'a/b')
    assert cli.json('repo', 'show', 'keepme')['name'] == 'keepme'


# -- triggers ----------------------------------------------------------------

def test_trigger_add_list_delete(cli):
    cli.run('repo', 'create', 'hooked', '--no-wait')
    local = cli.json('trigger', 'add', 'hooked', '--type', 'local', '--test-cmd',
                     'make test', '--run-cmd', 'python -m app', '--branches',
                     'release/*')
    assert local['config'] == {'test_cmd': 'make test', 'run_cmd': 'python -m app'}
    deploy = cli.json('trigger', 'add', 'hooked', '--type', 'local', '--run-cmd', 'app',
                      '--env', 'STAGE=prod', '--env', 'EMPTY=', '--health-path', '/up',
                      '--health-timeout', '5')
    assert deploy['config'] == {'run_cmd': 'app', 'env': {'STAGE': 'prod', 'EMPTY': ''},
                                'health_path': '/up', 'health_timeout': 5.0}
    bad = cli.run('trigger', 'add', 'hooked', '--type', 'local', '--run-cmd', 'app',
                  '--env', 'NOEQUALS', check=False)
    assert bad.returncode == 2 and 'must be NAME=VALUE' in bad.stderr
    assert cli.fails('trigger', 'add', 'hooked', '--type', 'local', '--run-cmd', 'app',
                     '--env', 'PORT=1').startswith('config.env.PORT: is reserved')
    # kept sealed under the API's [secrets] key, shown as a name only
    sealed = cli.json('trigger', 'add', 'hooked', '--type', 'local', '--run-cmd', 'app',
                      '--secret-env', 'TOKEN=x')
    assert sealed['config']['secrets'] == {'TOKEN': '***'}
    assert cli.json('release', 'list', 'hooked') == []
    assert 'has no release' in cli.fails('app', 'log', 'hooked')
    assert local['branches'] == 'release/*'
    hook = cli.json('trigger', 'add', 'hooked', '--type', 'webhook', '--url',
                    'https://93.184.216.34/hook', '--secret', 's3cret')
    assert hook['config']['secret'] != 's3cret'
    solum = cli.json('trigger', 'add', 'hooked', '--type', 'solum', '--app-id',
                     'app-1', '--actions', 'unittest,build')
    assert solum['config'] == {'app_id': 'app-1', 'actions': ['unittest', 'build']}
    listed = cli.json('trigger', 'list', 'hooked')
    assert {t['uuid'] for t in listed} == {local['uuid'], hook['uuid'], solum['uuid'],
                                           deploy['uuid'], sealed['uuid']}
    table = cli.run('trigger', 'list', 'hooked').stdout
    assert "test_cmd='make test'" in table
    cli.run('trigger', 'delete', 'hooked', hook['uuid'])
    assert hook['uuid'] not in {t['uuid'] for t in cli.json('trigger', 'list', 'hooked')}


def test_trigger_options_of_another_type_are_refused(cli):
    cli.run('repo', 'create', 'strict', '--no-wait')
    message = cli.fails('trigger', 'add', 'strict', '--type', 'local', '--url',
                        'https://x.example/')
    assert message == '--url: only for --type webhook triggers'
    assert 'config.url' in cli.fails('trigger', 'add', 'strict', '--type', 'webhook',
                                     '--secret', 'x')
    assert cli.fails('trigger', 'add', 'strict', '--type', 'local', '--languagepack',
                     'python') == '--languagepack: only for --type solum triggers'
    # the API's rule for an app the trigger makes, reached through the CLI's options
    assert 'config.languagepack' in cli.fails('trigger', 'add', 'strict', '--type', 'solum',
                                              '--create-app', '--test-cmd', 'true')
    assert cli.json('trigger', 'list', 'strict') == []


# -- stacks ------------------------------------------------------------------

def test_stack_list_show_resync(cli):
    cli.run('repo', 'create', 'stacked', '--no-wait')
    stacks = cli.json('stack', 'list')
    assert len(stacks) == 1
    stack = cli.json('stack', 'show', stacks[0]['name'])
    assert stack['uuid'] == stacks[0]['uuid'] and stack['kind'] == 'git'
    assert stack['project_id'] == PROJECT and 'hook_secret' not in stack
    result = cli.run('stack', 'resync', stack['uuid'])
    assert 'resync queued' in result.stderr


# -- how the CLI finds the API ------------------------------------------------

def test_without_an_endpoint_it_says_what_to_set(cli):
    message = cli.fails('repo', 'list', SOLUM_GIT_URL='')
    assert 'SOLUM_GIT_URL' in message and 'OS_AUTH_URL' in message
    message = cli.fails('repo', 'list', OS_USER_ID='')
    assert 'OS_USER_ID' in message


def test_unreachable_api_is_one_line(cli):
    with helpers.closed_port() as port:
        message = cli.fails('repo', 'list', SOLUM_GIT_URL='http://127.0.0.1:%d' % port)
    assert 'cannot reach the solum-git API' in message


def test_endpoint_with_v1_suffix_and_options_override_env(cli, api):
    env = {'SOLUM_GIT_URL': api.url + '/v1/', 'OS_PROJECT_ID': 'nobody'}
    assert cli.json('repo', 'list', '--os-project-id', PROJECT, **env)
    assert cli.json('repo', 'list', **env) == []


def test_help_lists_every_command(cli):
    out = cli.run('help').stdout
    for name in ('key add', 'repo create', 'member set', 'trigger add', 'push list',
                 'run log', 'run redeliver', 'stack resync', 'stack restore',
                 'repo backups', 'repo rename', 'event list', 'release list', 'rollback',
                 'app log', 'branch protect', 'branch unprotect', 'branch list',
                 'quota show', 'quota set'):
        assert name in out


# -- pushes and runs (their happy path is in test_cli_walkthrough) --------------

def test_push_and_run_commands_on_nothing_yet(cli):
    cli.run('repo', 'create', 'quiet', '--no-wait')
    assert cli.json('push', 'list', 'quiet') == []
    missing = '00000000-0000-0000-0000-000000000000'
    assert 'not found' in cli.fails('push', 'show', 'quiet', missing)
    assert 'run %s not found' % missing in cli.fails('run', 'show', missing)
    assert 'not found' in cli.fails('run', 'log', missing)
    assert 'not found' in cli.fails('run', 'redeliver', missing)
    assert 'not a valid' in cli.fails('run', 'show', '..')


def _signed_pushes(api, db, project, repo_name, count):
    """``count`` pushes to the repo, as its git server's hook reports them (signed)."""
    with db.connect() as conn:
        stack = conn.execute(sa.text('SELECT uuid, hook_secret FROM stacks WHERE '
                                     'project_id = :p'), {'p': project}).one()
    for i in range(count):
        body = json.dumps({
            'push_id': 'push-%s-%d' % (repo_name, i), 'stack_id': stack.uuid,
            'repo': repo_name, 'pusher': 'u-alice', 'pushed_at': int(time.time()),
            'refs': [{'ref': 'refs/heads/main', 'old': '0' * 40,
                      'new': '%040x' % (i + 1)}]}).encode()
        r = requests.post(api.url + '/v1/hooks/post-receive', data=body, timeout=30,
                          headers=helpers.hook_headers(stack.hook_secret, stack.uuid, body))
        assert r.status_code == 201 and len(r.json()['runs']) == 2, r.text


def test_run_list_limit_and_marker_count_runs_not_pushes(cli, api, db):
    """Two triggers: every push starts two runs; pages of the API hold three pushes."""
    env = {'OS_PROJECT_ID': 'runs-project', 'OS_USER_ID': 'alice'}
    client = helpers.Client(api.url, 'runs-project', 'alice')
    repo = client.post('/v1/infrastructure/repos', {'name': 'busy'}).json()
    for cmd in ('true', 'false'):
        assert client.post(repo['triggers_uri'], {'type': 'local', 'config': {
            'test_cmd': cmd}}).status_code == 201
    _signed_pushes(api, db, 'runs-project', 'busy', 4)
    every = cli.value('run', 'list', 'busy', '-c', 'uuid', **env).split()
    assert len(every) == 8 == len(set(every))
    for limit in (1, 2, 3, 7, 8, 20):
        assert cli.value('run', 'list', 'busy', '--limit', str(limit), '-c', 'uuid',
                         **env).split() == every[:limit]
    for start in (0, 1, 4, 6):
        assert cli.value('run', 'list', 'busy', '--marker', every[start], '--limit', '3',
                         '-c', 'uuid', **env).split() == every[start + 1:start + 4]
    assert cli.value('run', 'list', 'busy', '--marker', every[-1], **env) == ''
    other = client.post('/v1/infrastructure/repos', {'name': 'other'}).json()
    assert 'not a run of repo other' in cli.fails('run', 'list', other['name'], '--marker',
                                                  every[0], **env)


def test_repo_delete_says_what_it_did(cli, api):
    env = {'OS_PROJECT_ID': 'delete-project', 'OS_USER_ID': 'alice'}
    client = helpers.Client(api.url, 'delete-project', 'alice')
    first, second = (client.post('/v1/infrastructure/repos', {'name': n}).json()
                     for n in ('first', 'second'))
    said = cli.run('repo', 'delete', 'first', **env)
    assert said.stdout == ('Deleted repo first (%s) with its pushes, runs, triggers and '
                           'members; its git server drops it shortly.\n' % first['uuid'])
    said = cli.run('repo', 'delete', second['uuid'], **env)
    assert said.stdout == ('Deleted repo second (%s) with its pushes, runs, triggers and '
                           "members; its git server drops it shortly. It was the "
                           "project's last repo: its git server is being deleted too.\n"
                           % second['uuid'])
    assert cli.json('repo', 'list', **env) == []


# -- rename and the audit trail --------------------------------------------------

def test_repo_rename_and_event_list(cli):
    made = cli.json('repo', 'create', 'before', '--no-wait')
    renamed = cli.json('repo', 'rename', 'before', 'after')
    assert renamed['uuid'] == made['uuid'] and renamed['name'] == 'after'
    assert 'taken' not in cli.fails('repo', 'rename', 'after', '../x')
    assert 'name:' in cli.fails('repo', 'rename', 'after', '../x')
    assert 'RW+' in cli.fails('repo', 'rename', 'after', 'mine', OS_USER_ID='bob')
    shown = cli.json('event', 'list', '--repo', 'after')
    assert [(e['action'], e['outcome'], e['user_id']) for e in shown] == [
        ('repo.rename', 'denied', 'bob'), ('repo.rename', 'success', 'alice'),
        ('repo.create', 'success', 'alice')]
    assert shown[1]['detail'] == {'old_name': 'before', 'name': 'after'}
    denied = cli.json('event', 'list', '--outcome', 'denied', '--action', 'repo.rename')
    assert [e['user_id'] for e in denied] == ['bob']
    assert cli.json('event', 'list', '--repo', 'after', '--limit', '1')[0]['outcome'] \
        == 'denied'


# -- protected branches and quotas -----------------------------------------------

def test_branch_protect_list_unprotect(cli):
    cli.run('repo', 'create', 'guarded', '--no-wait')
    rule = cli.json('branch', 'protect', 'guarded', 'main')
    assert (rule['pattern'], rule['push'], rule['allow_force_push'],
            rule['allow_delete']) == ('main', 'RW+', False, False)
    rule = cli.json('branch', 'protect', 'guarded', 'release/*', '--push', 'RW',
                    '--allow-delete')
    assert (rule['pattern'], rule['push'], rule['allow_delete']) == ('release/*', 'RW',
                                                                     True)
    listed = cli.json('branch', 'list', 'guarded')
    assert [(r['pattern'], r['push']) for r in listed] == [('main', 'RW+'),
                                                           ('release/*', 'RW')]
    # the API's rule, one line
    assert 'pattern: must be a branch name or a glob' in cli.fails(
        'branch', 'protect', 'guarded', 'a..b')
    assert 'only RW+ members' in cli.fails('branch', 'unprotect', 'guarded', 'main',
                                           OS_USER_ID='bob')
    cli.run('branch', 'unprotect', 'guarded', 'release/*')
    assert [r['pattern'] for r in cli.json('branch', 'list', 'guarded')] == ['main']
    assert 'not found' in cli.fails('branch', 'unprotect', 'guarded', 'release/*')


def test_quota_show_and_set(cli):
    mine = cli.json('quota', 'show', OS_PROJECT_ID='quota-project')
    assert mine['project_id'] == 'quota-project' and mine['repos'] == -1
    assert 'not allowed' in cli.fails('quota', 'set', 'quota-project', '--repos', '1',
                                      OS_PROJECT_ID='quota-project')
    admin = dict(OS_PROJECT_ID='admin-project', OS_USER_ID='root', OS_ROLES='admin')
    got = cli.json('quota', 'set', 'quota-project', '--repos', '1', '--repo-size-mb',
                   '50', **admin)
    assert (got['repos'], got['repo_size_mb'], got['keys_per_user']) == (1, 50, -1)
    cli.run('repo', 'create', 'only-one', '--no-wait', OS_PROJECT_ID='quota-project')
    assert 'quota repos: project quota-project has 1 repos, its limit is 1' in cli.fails(
        'repo', 'create', 'second', '--no-wait', OS_PROJECT_ID='quota-project')
    got = cli.json('quota', 'set', 'quota-project', '--repo-size-mb', 'default', **admin)
    assert (got['repos'], got['repo_size_mb']) == (1, -1)
    result = cli.run('quota', 'set', 'quota-project', '--repos', '-5', check=False, **admin)
    assert result.returncode == 2 and 'must be -1' in result.stderr
    assert 'nothing to set' in cli.fails('quota', 'set', 'quota-project', **admin)
