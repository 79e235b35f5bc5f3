"""Git over smart HTTP with real git against a real local git server.

One solum-git-api, two projects. In project-a alice owns "web" (RW+) and
"docs", carol may read "web" (R); erin in project-b owns "shop" on her own
server. Deploy tokens, personal tokens and deploy keys are made through the
API; git clones, fetches and pushes with them (HTTP basic in the URL).
"""
import datetime
import os
import subprocess
import time
import urllib.parse

import pytest

from solum_git.common import urls
from tests.functional import gitserver

PROJECT_A, PROJECT_B = 'project-a', 'project-b'


@pytest.fixture(scope='module')
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('http')
    with gitserver.running_api(tmp) as api:
        w = gitserver.team(api, tmp, alice=PROJECT_A, carol=PROJECT_A, erin=PROJECT_B)
        w.web = w.alice.create_repo('web')
        w.docs = w.alice.create_repo('docs')
        w.alice.set_member(w.web, 'carol', 'R')
        w.shop = w.erin.create_repo('shop')
        gitserver.settle(api, (w.alice, w.web), (w.alice, w.docs), (w.erin, w.shop))
        w.alice.pin()
        w.erin.pin()
        w.web = w.alice.repo(w.web['uuid'])
        w.docs = w.alice.repo(w.docs['uuid'])
        w.shop = w.erin.repo(w.shop['uuid'])
        w.seed, w.first = w.alice.seed(w.web, 'seed', 'one')
        w.alice.seed(w.docs, 'seed-docs', 'docs one')
        yield w


def deploy_token(dev, repo, **body):
    body.setdefault('name', 'ci')
    r = dev.api.post('/v1/infrastructure/repos/%s/deploy_tokens' % repo['uuid'],
                     json=body)
    assert r.status_code == 201, r.text
    return r.json()


def personal_token(dev, **body):
    body.setdefault('name', 'laptop')
    r = dev.api.post('/v1/infrastructure/tokens', json=body)
    assert r.status_code == 201, r.text
    return r.json()


def with_auth(url, username, secret):
    return urls.clone_url(url, username, secret)


def applied(world, project=PROJECT_A):
    world.api.wait_applied(project)


def _refused(done):
    return done.returncode != 0


def test_repo_view_has_an_http_url_without_credentials(world):
    url = world.web['http_url']
    parts = urllib.parse.urlsplit(url)
    assert parts.scheme == 'http' and parts.hostname == '127.0.0.1'
    assert parts.username is None and parts.password is None
    assert parts.path == '/web.git'
    stack = world.alice.stack()
    assert url.startswith(stack['http_url'] + '/')


def test_read_deploy_token_clones_but_cannot_push(world):
    token = deploy_token(world.alice, world.web)
    assert token['permission'] == 'R'
    assert token['token'] and token['username'].startswith('deploy-')
    assert token['clone_url'] == with_auth(world.web['http_url'], token['username'],
                                           token['token'])
    applied(world)
    done, work = world.alice.clone(token['clone_url'])
    assert done.returncode == 0, done.stderr
    assert world.alice.git('rev-parse', 'HEAD', cwd=work).stdout.strip() == world.first
    world.alice.commit(work, 'from a read token')
    done = world.alice.push(work)
    assert _refused(done) and 'DENIED' in done.stderr, done.stderr


def test_deploy_token_list_shows_no_secret(world):
    token = deploy_token(world.alice, world.web, name='listed')
    r = world.alice.api.get('/v1/infrastructure/repos/%s/deploy_tokens'
                            % world.web['uuid'])
    assert r.status_code == 200
    listed = {t['uuid']: t for t in r.json()}
    assert listed[token['uuid']].get('token') is None
    assert listed[token['uuid']].get('clone_url') is None
    assert token['token'] not in r.text


def test_rw_deploy_token_pushes_and_the_push_is_recorded(world):
    token = deploy_token(world.alice, world.web, permission='RW', name='deployer')
    applied(world)
    done, work = world.alice.clone(token['clone_url'])
    assert done.returncode == 0, done.stderr
    sha = world.alice.commit(work, 'pushed over http')
    done = world.alice.push(work)
    assert done.returncode == 0, done.stderr
    heads = world.alice.ls_remote(world.web['git_url']).stdout
    assert '%s\trefs/heads/main' % sha in heads

    def recorded():
        pushes = world.alice.api.get('/v1/infrastructure/repos/%s/pushes'
                                     % world.web['uuid']).json()
        return [p for p in pushes if any(r['new'] == sha for r in p['refs'])]
    push = gitserver.wait_for(recorded, 30, what='the HTTP push recorded')[0]
    assert push['pusher'] == 'dt-%s' % token['uuid']


def test_no_token_and_a_wrong_token_are_refused_with_401(world):
    url = world.web['http_url']
    done = world.alice.git('ls-remote', url)
    # git's answer to a 401 without credentials in the URL
    assert _refused(done) and 'could not read Username' in done.stderr, done.stderr
    token = deploy_token(world.alice, world.web)
    applied(world)
    done = world.alice.git('ls-remote', with_auth(url, token['username'], 'x' * 43))
    assert _refused(done) and 'Authentication failed' in done.stderr, done.stderr
    # the right secret under another token's user name is refused as well
    done = world.alice.git('ls-remote', with_auth(url, 'deploy-000000000000',
                                                  token['token']))
    assert _refused(done) and 'Authentication failed' in done.stderr, done.stderr


def test_a_deploy_token_cannot_see_another_repo(world):
    token = deploy_token(world.alice, world.web)
    applied(world)
    for url in (world.docs['http_url'],
                world.docs['http_url'].replace('/docs.git', '/gitolite-admin.git')):
        done = world.alice.git('ls-remote', with_auth(url, token['username'],
                                                      token['token']))
        assert _refused(done) and 'not found' in done.stderr, done.stderr


def test_another_projects_token_gets_nothing_on_this_server(world):
    token = deploy_token(world.erin, world.shop, permission='RW')
    applied(world, PROJECT_B)
    done = world.erin.git('ls-remote', with_auth(world.shop['http_url'],
                                                 token['username'], token['token']))
    assert done.returncode == 0, done.stderr
    # the same credentials on project-a's server: unknown there
    done = world.erin.git('ls-remote', with_auth(world.web['http_url'],
                                                 token['username'], token['token']))
    assert _refused(done) and 'Authentication failed' in done.stderr, done.stderr


def test_a_revoked_token_is_refused_after_one_engine_pass(world):
    token = deploy_token(world.alice, world.web)
    applied(world)
    url = token['clone_url']
    assert world.alice.git('ls-remote', url).returncode == 0
    r = world.alice.api.delete('/v1/infrastructure/repos/%s/deploy_tokens/%s'
                               % (world.web['uuid'], token['uuid']))
    assert r.status_code == 204, r.text
    applied(world)
    done = world.alice.git('ls-remote', url)
    assert _refused(done) and 'Authentication failed' in done.stderr, done.stderr


def test_an_expired_token_is_refused(world):
    soon = (datetime.datetime.now(datetime.timezone.utc)
            + datetime.timedelta(seconds=3)).strftime('%Y-%m-%dT%H:%M:%S')
    token = deploy_token(world.alice, world.web, expires_at=soon)
    applied(world)
    assert token['expires_at'].startswith(soon)
    assert world.alice.git('ls-remote', token['clone_url']).returncode == 0
    time.sleep(4)
    done = world.alice.git('ls-remote', token['clone_url'])
    assert _refused(done) and 'Authentication failed' in done.stderr, done.stderr


def test_token_input_is_checked_field_by_field(world):
    base = '/v1/infrastructure/repos/%s/deploy_tokens' % world.web['uuid']
    for body, field in (({'name': 'x', 'permission': 'RW+'}, 'permission'),
                        ({'permission': 'R'}, 'name'),
                        ({'name': 'x', 'expires_at': '2001-01-01T00:00:00'},
                         'expires_at')):
        r = world.alice.api.post(base, json=body)
        assert r.status_code == 400 and field in r.json()['faultstring'], r.text
    # only RW+ members make tokens; a reader is refused
    r = world.carol.api.post(base, json={'name': 'mine'})
    assert r.status_code == 403, r.text


def test_personal_token_acts_with_its_users_own_access(world):
    carol = world.carol
    token = personal_token(carol)
    assert token['username'] == 'carol'
    applied(world)
    url = with_auth(world.web['http_url'], 'carol', token['token'])
    done, work = carol.clone(url)
    assert done.returncode == 0, done.stderr
    carol.commit(work, 'carol over http')
    done = carol.push(work)
    assert _refused(done) and 'DENIED' in done.stderr, done.stderr
    # docs: carol is no member; gitolite refuses without telling whether it exists
    done = carol.git('ls-remote', with_auth(world.docs['http_url'], 'carol',
                                            token['token']))
    assert _refused(done) and 'DENIED' in done.stderr, done.stderr
    # alice's token pushes where alice may
    alice = personal_token(world.alice)
    applied(world)
    done, work = world.alice.clone(with_auth(world.docs['http_url'], 'alice',
                                             alice['token']))
    assert done.returncode == 0, done.stderr
    world.alice.commit(work, 'alice over http')
    done = world.alice.push(work)
    assert done.returncode == 0, done.stderr
    r = carol.api.get('/v1/infrastructure/tokens')
    assert [t['uuid'] for t in r.json()] == [token['uuid']]
    assert token['token'] not in r.text
    # revoked: refused after the next pass
    assert carol.api.delete('/v1/infrastructure/tokens/%s' % token['uuid']) \
        .status_code == 204
    applied(world)
    done = carol.git('ls-remote', url)
    assert _refused(done) and 'Authentication failed' in done.stderr, done.stderr


def test_another_users_token_is_not_found(world):
    token = personal_token(world.alice, name='private')
    r = world.carol.api.delete('/v1/infrastructure/tokens/%s' % token['uuid'])
    assert r.status_code == 404, r.text


def test_a_pinned_url_clones_exactly_that_commit_after_later_pushes(world):
    token = deploy_token(world.alice, world.web)
    applied(world)
    work = world.seed
    world.alice.git('pull', '-q', '--rebase', 'origin', 'main', cwd=work)
    pinned = world.alice.commit(work, 'the build')
    assert world.alice.push(work).returncode == 0
    later = world.alice.commit(work, 'a later push')
    assert world.alice.push(work).returncode == 0
    url = urls.pin_url(token['clone_url'], pinned)
    # as Solum's worker clones
    dest = world.alice.dir / ('pinned-%d' % time.monotonic_ns())
    done = world.alice.git('clone', '-q', '-b', 'master', '--depth', '1', url, str(dest))
    assert done.returncode == 0, done.stderr
    assert world.alice.git('rev-parse', 'HEAD', cwd=dest).stdout.strip() == pinned
    heads = world.alice.git('ls-remote', url).stdout.split('\n')
    assert {h for h in heads if h} == {'%s\tHEAD' % pinned,
                                       '%s\trefs/heads/master' % pinned}
    # the repo's own views show no pin, and a pin takes no push
    assert 'namespaces' not in world.alice.ls_remote(world.web['git_url']).stdout
    assert 'namespaces' not in world.alice.git('ls-remote',
                                               token['clone_url']).stdout
    world.alice.git('remote', 'set-url', 'origin', url, cwd=dest)
    world.alice.commit(dest, 'into a pin')
    assert _refused(world.alice.git('push', '-q', 'origin', 'HEAD:master', cwd=dest))
    # nor through the repo: refs/namespaces is hidden, so refused
    done = world.alice.git('push', '-q', 'origin', '%s:refs/namespaces/pin-%s/refs/heads/'
                           'master' % (later, pinned), cwd=work)
    assert _refused(done), done.stderr
    assert world.alice.git('rev-parse', 'HEAD', cwd=dest).returncode == 0


def test_a_pin_of_an_unknown_commit_or_another_repos_commit_is_not_found(world):
    token = deploy_token(world.alice, world.web)
    applied(world)
    docs_head = world.alice.ls_remote(world.docs['git_url']).stdout.split()[0]
    for sha in ('0' * 40, docs_head):
        done = world.alice.git('ls-remote', urls.pin_url(token['clone_url'], sha))
        assert _refused(done) and 'not found' in done.stderr, done.stderr
    # a pin needs read access: the docs token of another repo gets nothing
    done = world.alice.git('ls-remote', urls.pin_url(
        with_auth(world.docs['http_url'], token['username'], token['token']),
        docs_head))
    assert _refused(done), done.stderr


def test_deploy_key_reads_exactly_its_repo_over_ssh(world, tmp_path):
    key = tmp_path / 'deploy'
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'ci@host', '-f',
                    str(key)], check=True)
    r = world.alice.api.post('/v1/infrastructure/repos/%s/deploy_keys'
                             % world.web['uuid'],
                             json={'public_key': (tmp_path / 'deploy.pub').read_text()})
    assert r.status_code == 201, r.text
    view = r.json()
    assert view['permission'] == 'R' and view['name'] == 'ci@host'
    applied(world)
    env = world.alice.env()
    env['GIT_SSH_COMMAND'] = env['GIT_SSH_COMMAND'].replace(str(world.alice.key),
                                                            str(key))

    def git(*args, cwd=None):
        return subprocess.run(['git'] + list(args), cwd=cwd, env=env,
                              capture_output=True, text=True, timeout=60)
    dest = tmp_path / 'clone'
    done = git('clone', '-q', world.web['git_url'], str(dest))
    assert done.returncode == 0, done.stderr
    (dest / 'x').write_text('x')
    git('add', 'x', cwd=dest)
    git('commit', '-q', '-m', 'x', cwd=dest)
    done = git('push', '-q', 'origin', 'HEAD:main', cwd=dest)
    assert _refused(done) and 'DENIED' in done.stderr, done.stderr
    done = git('ls-remote', world.docs['git_url'])
    assert _refused(done) and 'DENIED' in done.stderr, done.stderr
    # the same key again (or as a user key) is refused
    r = world.alice.api.post('/v1/infrastructure/repos/%s/deploy_keys'
                             % world.docs['uuid'],
                             json={'public_key': (tmp_path / 'deploy.pub').read_text()})
    assert r.status_code == 409, r.text
    r = world.carol.api.post('/v1/infrastructure/keys',
                             json={'public_key': (tmp_path / 'deploy.pub').read_text()})
    assert r.status_code == 409, r.text
    # RW deploy key pushes; deleting it ends its access
    r = world.alice.api.delete('/v1/infrastructure/repos/%s/deploy_keys/%s'
                               % (world.web['uuid'], view['uuid']))
    assert r.status_code == 204
    r = world.alice.api.post('/v1/infrastructure/repos/%s/deploy_keys'
                             % world.web['uuid'],
                             json={'public_key': (tmp_path / 'deploy.pub').read_text(),
                                   'permission': 'RW', 'name': 'deployer'})
    assert r.status_code == 201, r.text
    rw = r.json()
    applied(world)
    git('pull', '-q', '--rebase', 'origin', 'main', cwd=dest)
    done = git('push', '-q', 'origin', 'HEAD:main', cwd=dest)
    assert done.returncode == 0, done.stderr
    listed = world.alice.api.get('/v1/infrastructure/repos/%s/deploy_keys'
                                 % world.web['uuid']).json()
    assert [k['uuid'] for k in listed] == [rw['uuid']]
    world.alice.api.delete('/v1/infrastructure/repos/%s/deploy_keys/%s'
                           % (world.web['uuid'], rw['uuid']))
    applied(world)
    done = git('ls-remote', world.web['git_url'])
    assert _refused(done), done.stderr


def test_cli_tokens_deploy_keys_and_repo_show_http_url(world, tmp_path):
    from tests.functional import test_cli
    cli = test_cli.Cli(world.api.url, tmp_path, project=PROJECT_A, user='alice')
    assert cli.value('repo', 'show', 'web', '-c', 'http_url') == world.web['http_url']
    made = cli.json('deploy-token', 'create', 'web', 'from-cli', '--permission', 'RW')
    assert made['permission'] == 'RW' and made['token']
    listed = cli.json('deploy-token', 'list', 'web')
    assert made['uuid'] in [t['uuid'] for t in listed]
    assert made['token'] not in cli.run('deploy-token', 'list', 'web').stdout
    personal = cli.json('token', 'create', 'cli-laptop')
    assert personal['username'] == 'alice'
    applied(world)
    # the printed clone_url and a URL made from the printed token both clone
    assert world.alice.git('ls-remote', made['clone_url']).returncode == 0
    url = with_auth(world.web['http_url'], 'alice', personal['token'])
    assert world.alice.git('ls-remote', url).returncode == 0
    cli.run('token', 'delete', personal['uuid'])
    cli.run('deploy-token', 'delete', 'web', made['uuid'])
    assert personal['uuid'] not in cli.run('token', 'list').stdout
    key = tmp_path / 'cli-deploy'
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', str(key)],
                   check=True)
    added = cli.json('deploy-key', 'add', 'docs', str(key) + '.pub', '--name', 'ci')
    assert added['permission'] == 'R' and added['name'] == 'ci'
    assert [k['uuid'] for k in cli.json('deploy-key', 'list', 'docs')] == [added['uuid']]
    cli.run('deploy-key', 'delete', 'docs', added['uuid'])
    assert cli.json('deploy-key', 'list', 'docs') == []
    applied(world)
    assert world.alice.git('ls-remote', made['clone_url']).returncode != 0


def _readme_block(marker):
    """The console lines of README.rst's code block that follows ``marker``."""
    import pathlib
    text = (pathlib.Path(__file__).resolve().parents[2] / 'README.rst').read_text()
    block = text.split(marker, 1)[1].split('.. code-block:: console', 1)[1]
    lines = []
    for line in block.splitlines()[1:]:
        if line.strip() and not line.startswith('   '):
            break
        if line.strip().startswith('$ '):
            lines.append(line.strip()[2:])
    return lines


def test_readme_http_clone_commands_work_as_printed(world, tmp_path):
    from tests.functional import test_cli
    lines = _readme_block('Clone over HTTP with a token')
    assert any('deploy-token create' in line for line in lines), lines
    repo = world.alice.create_repo('myapp')
    world.alice.wait_active(repo)
    done, work = world.alice.clone(world.alice.repo(repo['uuid'])['git_url'])
    world.alice.commit(work, 'readme')
    assert world.alice.push(work).returncode == 0
    cli = test_cli.Cli(world.api.url, tmp_path, project=PROJECT_A, user='alice')
    env = dict(cli.env, PATH=os.path.dirname(test_cli.CLI) + ':' + os.environ['PATH'],
               GIT_TERMINAL_PROMPT='0', GIT_CONFIG_NOSYSTEM='1')
    done = subprocess.run(['bash', '-e', '-c', _with_waits(lines)], env=env,
                          capture_output=True, text=True, timeout=120,
                          cwd=str(tmp_path))
    assert done.returncode == 0, (lines, done.stdout, done.stderr)
    for name in ('myapp-ci', 'myapp-http'):
        assert (tmp_path / name / 'readme.txt').read_text() == 'readme'


def _with_waits(lines):
    """A second before each clone, as a person typing gives the engine."""
    return '\n'.join(('sleep 1; ' if 'git clone' in line else '') + line for line in lines)


def test_a_stack_from_before_the_front_gets_a_port_and_its_front_on_resync(world):
    """What an upgrade finds: no HTTP port in the row, no front in the home."""
    import signal
    import sqlite3
    row = world.api.stack_row(PROJECT_B)
    root = os.path.join(world.api.stacks_path, row['uuid'])
    os.kill(int(open(os.path.join(root, 'http', 'http.pid')).read()), signal.SIGTERM)
    os.unlink(os.path.join(root, 'home', '.solum-git', 'bin', 'solum-git-http'))
    with sqlite3.connect(str(world.api.db_path), timeout=30) as db:
        db.execute('UPDATE stacks SET http_port = NULL WHERE uuid = ?', (row['uuid'],))
    assert world.erin.repo(world.shop['uuid'])['http_url'] is None
    token = deploy_token(world.erin, world.shop)
    assert token['clone_url'] is None
    r = world.erin.api.post('/v1/infrastructure/stacks/%s/actions' % row['uuid'],
                            json={'action': 'resync'})
    assert r.status_code == 202, r.text

    def serving():
        url = world.erin.repo(world.shop['uuid'])['http_url']
        if not url:
            return None
        done = world.erin.git('ls-remote', with_auth(url, token['username'],
                                                     token['token']))
        return done.returncode == 0
    gitserver.wait_for(serving, 60, what='the old stack serving HTTP')
