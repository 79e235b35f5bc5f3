"""The deploy workflow over real pushes: config.env and config.secrets, health-checked
swaps, releases and rollback, app logs.

Plain bare repos whose post-receive runs the real hook shim line; the API on
real HTTP; the engine's run worker executing the local pipeline in its sandbox.
"""
import hashlib
import json
import os
import pathlib
import re
import subprocess
import threading
import time

from cryptography import fernet
import pytest
import requests
import sqlalchemy as sa

from solum_git.db import models
from solum_git.engine import runs as run_worker
from solum_git.engine import service as engine_service
from tests.functional import demo_app
from tests.functional import pushenv
from tests import helpers

KEY = fernet.Fernet.generate_key().decode()
SECRET = 'sk-live-7d1f0c9e55aa'
# what a command shows to prove it got the secret, without showing it
DIGEST = hashlib.sha256(SECRET.encode()).hexdigest()[:16]

# answers what it was deployed with; prints, at request time, what it was asked
APP = demo_app.source('''        if self.path == '/healthz':
            code = int(open('health.txt').read()) if os.path.exists('health.txt') else 200
            self.send_response(code)
            self.end_headers()
            return
        print('request %s token=%s' % (self.path, os.environ.get('API_TOKEN')), flush=True)
        token = os.environ.get('API_TOKEN', '').encode()
        body = ('%s %s %s' % (open('version.txt').read(), os.environ.get('GREETING'),
                              hashlib.sha256(token).hexdigest()[:16])).encode()
''', imports='hashlib, http.server, os')


def push(tree, client, files, message):
    tree.commit(files, message)
    output, _seconds = tree.push()
    run = pushenv.wait_run(client, re.search(r'local run for main queued: (\S+)',
                                             output).group(1))
    return run, pushenv.remote_lines(output)


def make_env(tmp, **groups):
    groups.setdefault('secrets', {'fernet_keys': [KEY]})
    # the client waits for the run: its remote: lines end with how it ended
    groups.setdefault('hook', {'stream_seconds': 60})
    return pushenv.PushEnv(tmp, 'sqlite:///%s' % (tmp / 'db.sqlite'), **groups).start()


def _follow(alice, env, run):
    """Follow the app log while the app is asked something; a second follower,
    a tail, and another project's look."""
    seen = {'chunks': []}

    def reader():
        start = time.monotonic()
        with requests.get(run['uri'] + '/app-log?follow=1', stream=True, timeout=30,
                          headers=dict(alice.session.headers)) as r:
            seen['status'] = r.status_code
            seen['type'] = r.headers.get('Content-Type')
            # byte by byte: the test server sends no chunked encoding to split on
            for chunk in r.iter_content(1):
                seen['chunks'].append(chunk.decode())
        seen['seconds'] = time.monotonic() - start

    thread = threading.Thread(target=reader)
    thread.start()
    pushenv.wait_for(lambda: seen['chunks'], timeout=10, what='the followed log to start')
    second = alice.get(run['uri'] + '/app-log?follow=1')
    demo_app.answer(run['app_url'], '/while-followed')
    thread.join(30)
    return {'follow': seen, 'second_follower': second,
            'tail': alice.get(run['uri'] + '/app-log?tail=1').text,
            'bad_tail': alice.get(run['uri'] + '/app-log?tail=lots'),
            'other_project': env.client(project='project-b', user='bob').get(
                run['uri'] + '/app-log')}


@pytest.fixture(scope='module')
def configured(tmp_path_factory):
    """A local trigger with env, a secret and a health check: v1 healthy, v2 not."""
    tmp = tmp_path_factory.mktemp('deploy-config')
    env = make_env(tmp, api={'app_log_follow_seconds': 4, 'app_log_followers': 1})
    alice = env.client()
    repo = env.make_repo(alice, 'web')
    made = alice.post('/v1/infrastructure/repos/%s/triggers' % repo['uuid'], json={
        'type': 'local', 'config': {
            'test_cmd': 'echo "test sees $GREETING and $API_TOKEN"; '
                        'printf %%s "$API_TOKEN" | sha256sum | grep -q ^%s' % DIGEST,
            'run_cmd': 'exec python3 app.py', 'health_path': '/healthz',
            'health_timeout': 3,
            'env': {'GREETING': 'hello'},
            'secrets': {'API_TOKEN': SECRET}}})
    tree = pushenv.WorkTree(tmp / 'wt', repo['bare'])
    out = {'env': env, 'alice': alice, 'repo': repo, 'made': made}
    try:
        v1, out['v1_lines'] = push(tree, alice, {'app.py': APP, 'version.txt': 'v1'}, 'v1')
        out['v1'] = v1
        out['v1_answer'] = demo_app.answer(v1['app_url'], '/hello')
        out['v1_app_log'] = alice.get(v1['uri'] + '/app-log').text
        out.update(_follow(alice, env, v1))
        v2, out['v2_lines'] = push(tree, alice, {'version.txt': 'v2', 'health.txt': '503'},
                                   'v2 unhealthy')
        out['v2'] = v2
        out['v1_after_v2'] = demo_app.answer(v1['app_url'], '/after')
        out['answers'] = [made.text, alice.get(made.json()['uri']).text,
                          alice.get('/v1/infrastructure/repos/%s/triggers'
                                    % repo['uuid']).text,
                          alice.get(v1['uri']).text, alice.get(v2['uri']).text,
                          alice.get('/v1/infrastructure/repos/%s/pushes'
                                    % repo['uuid']).text]
        out['logs'] = [alice.get(v1['log_uri']).text, alice.get(v2['log_uri']).text]
        with env.db.reader() as session:
            out['db_config'] = session.execute(sa.select(models.Trigger.config)).scalar()
            out['db_logs'] = session.execute(sa.select(models.Run.log)).scalars().all()
        yield out
    finally:
        env.stop()


def test_env_and_secrets_reach_test_cmd_and_run_cmd(configured):
    assert configured['made'].status_code == 201, configured['made'].text
    assert configured['v1']['status'] == 'SUCCESS', configured['v1']
    assert configured['v1_answer'] == 'v1 hello %s' % DIGEST
    assert 'test sees hello and ***' in configured['logs'][0]


def test_the_secret_is_in_no_api_answer_and_no_log(configured):
    assert configured['made'].json()['config']['secrets'] == {'API_TOKEN': '***'}
    for text in configured['answers'] + configured['logs'] + configured['db_logs']:
        assert text and SECRET not in text, text
    app_log = configured['v1_app_log']
    assert 'request /hello token=***' in app_log, app_log
    assert SECRET not in app_log


def test_the_app_log_follows_what_the_app_prints_at_request_time(configured):
    follow = configured['follow']
    assert follow['status'] == 200 and follow['type'].startswith('text/plain')
    text = ''.join(follow['chunks'])
    assert 'request /hello token=***' in text
    assert 'request /while-followed token=***' in text, text
    assert SECRET not in text
    # [api] app_log_follow_seconds = 4 ends it: no API thread is held for ever
    assert follow['seconds'] < 10


def test_app_log_followers_tail_and_scope_are_bounded(configured):
    second = configured['second_follower']
    assert second.status_code == 429
    assert '[api] app_log_followers' in second.json()['faultstring']
    assert configured['tail'] == 'request /while-followed token=***\n'
    bad = configured['bad_tail']
    assert bad.status_code == 400
    assert bad.json()['faultstring'].startswith('tail: must be a number of lines')
    assert configured['other_project'].status_code == 404


def test_the_database_holds_the_secret_encrypted(configured):
    token = configured['db_config']['secrets']['API_TOKEN']
    assert SECRET not in str(configured['db_config']['secrets'])
    assert fernet.Fernet(KEY.encode()).decrypt(token.encode()).decode() == SECRET


def test_a_failing_health_check_keeps_the_previous_app_serving(configured):
    v2 = configured['v2']
    assert v2['status'] == 'FAILED', v2
    assert 'health check failed: GET /healthz answered 503' in v2['status_reason']
    assert 'previous app (if any) keeps serving' in v2['status_reason']
    assert v2['app_url'] is None
    assert configured['v1_after_v2'] == 'v1 hello %s' % DIGEST
    assert any('health check failed' in line for line in configured['v2_lines'])


@pytest.fixture(scope='module')
def released(tmp_path_factory):
    """v1, v2, v3 deployed; rollback to v1; then v4 pushed."""
    tmp = tmp_path_factory.mktemp('deploy-releases')
    env = make_env(tmp)
    alice = env.client()
    repo = env.make_repo(alice, 'web')
    trigger = alice.post('/v1/infrastructure/repos/%s/triggers' % repo['uuid'], json={
        'type': 'local', 'config': {'test_cmd': 'echo built > built.txt',
                                    'run_cmd': 'exec python3 app.py',
                                    'env': {'GREETING': 'hi'}}}).json()
    tree = pushenv.WorkTree(tmp / 'wt', repo['bare'])
    out = {'env': env, 'alice': alice, 'repo': repo, 'trigger': trigger, 'tree': tree,
           'runs': [], 'lines': []}
    try:
        for version in ('v1', 'v2', 'v3'):
            files = {'version.txt': version}
            if version == 'v1':
                files['app.py'] = APP
            run, lines = push(tree, alice, files, version)
            out['runs'].append(run)
            out['lines'].append(lines)
        v1, v3 = out['runs'][0], out['runs'][2]
        out['releases_before'] = alice.get('/v1/infrastructure/repos/%s/releases'
                                           % repo['uuid']).json()
        asked = alice.post(v1['uri'] + '/actions', json={'action': 'rollback'})
        out['asked'] = asked
        start = time.monotonic()
        rollback = pushenv.wait_run(alice, asked.json()['uri'], timeout=10)
        out['rollback'] = rollback
        out['v1_again'] = pushenv.wait_for(
            lambda: demo_app.answer(rollback['app_url'] or v3['app_url'], '/'), timeout=10,
            what='the rolled back app')
        out['rollback_seconds'] = time.monotonic() - start
        out['v3_after_rollback'] = demo_app.answer(v3['app_url'], '/')
        out['rollback_log'] = alice.get(rollback['log_uri']).text
        out['releases_after'] = alice.get('/v1/infrastructure/repos/%s/releases'
                                          % repo['uuid']).json()
        v4, out['v4_lines'] = push(tree, alice, {'version.txt': 'v4'}, 'v4')
        out['v4'] = v4
        out['v4_answer'] = demo_app.answer(v4['app_url'], '/')
        out['rollback_after_v4'] = demo_app.answer(rollback['app_url'], '/')
        out['changed'] = alice.put(trigger['uri'], json={'config': {
            'env': {'GREETING': 'changed'}, 'secrets': {'API_TOKEN': SECRET}}})
        newest = alice.get('/v1/infrastructure/repos/%s/pushes?limit=1'
                           % repo['uuid']).json()[0]
        out['redeploy'] = pushenv.wait_run(alice, newest['runs'][0]['uri'])
        out['redeploy_answer'] = demo_app.answer(out['redeploy']['app_url'], '/')
        out['bad_change'] = alice.put(trigger['uri'], json={'config': {
            'run_cmd': None, 'test_cmd': None}})
        out['type_change'] = alice.put(trigger['uri'], json={'type': 'webhook',
                                                             'config': {}})
        yield out
    finally:
        env.stop()


def test_each_deploy_is_a_release_named_in_the_remote_lines(released):
    assert [r['status'] for r in released['runs']] == ['SUCCESS'] * 3
    assert [r['release'] for r in released['runs']] == [1, 2, 3]
    v2 = released['runs'][1]
    assert v2['status_reason'] == ('deployed as release 2 (to roll back to release 1: '
                                   'solum-git rollback %s)' % released['runs'][0]['uuid'])
    assert released['lines'][1][-1] == 'solum-git: local run SUCCESS: %s %s' % (
        v2['status_reason'], v2['app_url']), released['lines'][1]
    listed = released['releases_before']
    assert [(r['release'], r['serving']) for r in listed] == [(3, True), (2, False),
                                                              (1, False)]
    assert listed[2]['commit'] == released['runs'][0]['commit']
    assert listed[2]['config_version'] == 1


def test_rollback_from_v3_to_v1_serves_v1_within_10_seconds(released):
    assert released['asked'].status_code == 202, released['asked'].text
    rollback = released['rollback']
    assert rollback['status'] == 'SUCCESS', rollback
    assert rollback['rollback_of'] == released['runs'][0]['uuid']
    assert rollback['release'] == 4
    assert rollback['commit'] == released['runs'][0]['commit']
    assert rollback['status_reason'].startswith(
        'rolled back to release 1 (run %s) as release 4' % released['runs'][0]['uuid'])
    assert released['v1_again'].startswith('v1 hi')
    assert released['rollback_seconds'] < 10
    assert released['v3_after_rollback'] is None, 'v3 stops once v1 serves again'


def test_a_rollback_runs_no_checkout_and_no_tests(released):
    log = released['rollback_log']
    assert 'rolling back to release 1' in log
    assert 'checking out' not in log and 'test_cmd' not in log
    assert [r['release'] for r in released['releases_after']][:2] == [4, 3]
    assert released['releases_after'][0]['rollback_of'] == released['runs'][0]['uuid']


def test_a_push_after_a_rollback_deploys_normally(released):
    v4 = released['v4']
    assert v4['status'] == 'SUCCESS', v4
    assert v4['release'] == 5
    assert released['v4_answer'].startswith('v4 hi')
    assert released['rollback_after_v4'] is None
    assert '(to roll back to release 4: solum-git rollback %s)' % released['rollback'][
        'uuid'] in v4['status_reason']


def test_changing_the_config_redeploys_the_serving_release(released):
    changed = released['changed']
    assert changed.status_code == 200, changed.text
    assert changed.json()['config']['env'] == {'GREETING': 'changed'}
    assert changed.json()['config']['secrets'] == {'API_TOKEN': '***'}
    assert SECRET not in changed.text
    redeploy = released['redeploy']
    assert redeploy['status'] == 'SUCCESS', redeploy
    assert redeploy['rollback_of'] == released['v4']['uuid']
    assert redeploy['status_reason'].startswith(
        'redeployed release 5 (run %s) with config version 2 as release 6'
        % released['v4']['uuid'])
    assert released['redeploy_answer'] == 'v4 changed %s' % DIGEST


def test_a_config_change_that_breaks_a_rule_changes_nothing(released):
    bad = released['bad_change']
    assert bad.status_code == 400
    assert bad.json()['faultstring'].startswith('config: a local trigger needs test_cmd')
    assert released['type_change'].status_code == 400
    assert released['type_change'].json()['faultstring'].startswith('type: cannot change')


def test_rollback_is_refused_for_a_run_that_is_not_a_release(tmp_path):
    env = make_env(tmp_path)
    try:
        alice = env.client()
        repo = env.make_repo(alice, 'web')
        alice.post('/v1/infrastructure/repos/%s/triggers' % repo['uuid'], json={
            'type': 'local', 'config': {'test_cmd': 'false'}})
        tree = pushenv.WorkTree(tmp_path / 'wt', repo['bare'])
        run, _lines = push(tree, alice, {'a.txt': 'a'}, 'a')
        refused = alice.post(run['uri'] + '/actions', json={'action': 'rollback'})
        other = env.client(project='project-b', user='bob').post(
            run['uri'] + '/actions', json={'action': 'rollback'})
        unknown = alice.post(run['uri'] + '/actions', json={'action': 'undo'})
    finally:
        env.stop()
    assert refused.status_code == 409
    assert 'is not a release' in refused.json()['faultstring']
    assert other.status_code == 404
    assert unknown.status_code == 400
    assert unknown.json()['faultstring'] == ('action: must be one of: redeliver, '
                                             'rollback')


def test_an_engine_restart_keeps_the_rolled_back_release_serving(tmp_path):
    env = make_env(tmp_path, pipelines={'app_check_interval': 0.2})
    try:
        alice = env.client()
        repo = env.make_repo(alice, 'web')
        alice.post('/v1/infrastructure/repos/%s/triggers' % repo['uuid'], json={
            'type': 'local', 'config': {'run_cmd': 'exec python3 app.py',
                                        'secrets': {'API_TOKEN': SECRET}}})
        tree = pushenv.WorkTree(tmp_path / 'wt', repo['bare'])
        v1, _lines = push(tree, alice, {'app.py': APP, 'version.txt': 'v1'}, 'v1')
        push(tree, alice, {'version.txt': 'v2'}, 'v2')
        asked = alice.post(v1['uri'] + '/actions', json={'action': 'rollback'}).json()
        rollback = pushenv.wait_run(alice, asked['uri'])
        assert rollback['status'] == 'SUCCESS', rollback
        served = demo_app.answer(rollback['app_url'], '/')
        env.engine.stop()
        # a new engine process would do the same: same state dir, same database
        env.engine = engine_service.Engine(env.conf, env.db, env.servers,
                                           [run_worker.RunWorker])
        env.engine.start()
        again = pushenv.wait_for(lambda: demo_app.answer(rollback['app_url'], '/'), timeout=20,
                                 what='the rolled back release restored')
        restored_log = alice.get(rollback['uri'] + '/app-log').text
    finally:
        env.stop()
    assert served == again == 'v1 None %s' % DIGEST
    assert 'restoring the app of run %s' % rollback['uuid'] in restored_log
    assert 'request / token=***' in restored_log and SECRET not in restored_log


# what a tenant's test_cmd may try to find another trigger's secret: every process
# it can see, the service's state and config, the key file, the database
HUNT = r'''for f in /proc/[0-9]*/environ; do tr '\0' '\n' < "$f"; done 2>&1 | sort -u
cat %(state)s/apps/*.json 2>&1
cat %(app_state)s 2>&1 || echo "no app state: $?"
cat %(key_file)s 2>&1
ls %(state)s/runs 2>&1
grep -r API_TOKEN %(tmp)s 2>&1 | head -5
env
exit 0
'''


def test_another_trigger_or_project_cannot_reach_a_secret(tmp_path):
    key_file = tmp_path / 'secrets.keys'
    key_file.write_text(KEY + '\n')
    key_file.chmod(0o600)
    env = make_env(tmp_path, secrets={'key_file': str(key_file)})
    try:
        alice = env.client()
        repo = env.make_repo(alice, 'web')
        trigger = alice.post('/v1/infrastructure/repos/%s/triggers' % repo['uuid'], json={
            'type': 'local', 'config': {'run_cmd': 'exec python3 app.py',
                                        'secrets': {'API_TOKEN': SECRET}}}).json()
        tree = pushenv.WorkTree(tmp_path / 'wt', repo['bare'])
        served, _lines = push(tree, alice, {'app.py': APP, 'version.txt': 'v1'}, 'v1')
        assert demo_app.answer(served['app_url'], '/') == 'v1 None %s' % DIGEST
        # the app's state on the engine's disk: private, and the secret only sealed
        app_state = pathlib.Path(env.conf.state_path) / 'apps' / ('%s.json' % trigger['uuid'])
        kept = json.loads(app_state.read_text())
        modes = (app_state.stat().st_mode & 0o777, app_state.parent.stat().st_mode & 0o777)
        hunt = HUNT % {'state': env.conf.state_path, 'key_file': key_file, 'tmp': tmp_path,
                       'app_state': app_state}
        logs = {}
        for project, name in (('project-a', 'sibling'), ('project-m', 'mallory')):
            client = env.client(project=project, user='dev-' + name)
            other = env.make_repo(client, name)
            assert client.post('/v1/infrastructure/repos/%s/triggers' % other['uuid'],
                               json={'type': 'local', 'config': {
                                   'test_cmd': 'sh hunt.sh'}}).status_code == 201
            other_tree = pushenv.WorkTree(tmp_path / ('wt-' + name), other['bare'])
            run, _lines = push(other_tree, client, {'hunt.sh': hunt}, 'hunt')
            assert run['status'] == 'SUCCESS', run
            logs[name] = client.get(run['log_uri']).text
    finally:
        env.stop()
    assert modes == (0o600, 0o700)
    assert SECRET not in app_state.read_text() and 'API_TOKEN' not in kept['env']
    assert fernet.Fernet(KEY.encode()).decrypt(
        kept['secrets']['API_TOKEN'].encode()).decode() == SECRET
    for name, log in logs.items():
        assert SECRET not in log, (name, log)
        assert 'API_TOKEN' not in log, (name, log)
        # it asked for the other trigger's app state by its path, and got nothing
        assert 'no app state: 1' in log, log
        # it did look: its own environment is in its log
        assert 'SOLUM_GIT_REPO=%s' % name in log, log


def test_a_key_rotation_keeps_every_secret_and_retires_the_old_key(tmp_path):
    env = make_env(tmp_path)
    manage = os.path.join(helpers.VENV_BIN, 'solum-git-manage')
    try:
        alice = env.client()
        repo = env.make_repo(alice, 'web')
        alice.post('/v1/infrastructure/repos/%s/triggers' % repo['uuid'], json={
            'type': 'local', 'config': {'run_cmd': 'exec python3 app.py',
                                        'secrets': {'API_TOKEN': SECRET}}})
        new_key = subprocess.run([manage, '--config-file', '/dev/null', 'secrets',
                                  'new-key'], capture_output=True, text=True,
                                 check=True).stdout.strip()
        config = tmp_path / 'rotate.conf'
        config.write_text('[database]\nconnection = sqlite:///%s\n[secrets]\n'
                          'fernet_keys = %s,%s\n' % (tmp_path / 'db.sqlite', new_key, KEY))
        rotated = subprocess.run([manage, '--config-file', str(config), 'secrets',
                                  'rotate'], capture_output=True, text=True)
        # the old key is gone: only the new one opens the secrets now
        env.conf.set_override('fernet_keys', [new_key], group='secrets')
        tree = pushenv.WorkTree(tmp_path / 'wt', repo['bare'])
        run, _lines = push(tree, alice, {'app.py': APP, 'version.txt': 'v1'}, 'v1')
        served = demo_app.answer(run['app_url'], '/') if run['app_url'] else None
        with env.db.reader() as session:
            token = session.execute(sa.select(models.Trigger.config)).scalar()[
                'secrets']['API_TOKEN']
    finally:
        env.stop()
    assert rotated.returncode == 0, rotated.stderr
    assert rotated.stdout.strip() == '1 secrets now under the first [secrets] key'
    assert fernet.Fernet(new_key.encode()).decrypt(token.encode()).decode() == SECRET
    assert run['status'] == 'SUCCESS', run
    assert served == 'v1 None %s' % DIGEST


def test_a_secret_no_key_opens_ends_the_run_in_error_saying_so(tmp_path):
    env = make_env(tmp_path)
    try:
        alice = env.client()
        repo = env.make_repo(alice, 'web')
        alice.post('/v1/infrastructure/repos/%s/triggers' % repo['uuid'], json={
            'type': 'local', 'config': {'test_cmd': 'true',
                                        'secrets': {'API_TOKEN': SECRET}}})
        env.conf.set_override('fernet_keys', [fernet.Fernet.generate_key().decode()],
                              group='secrets')
        tree = pushenv.WorkTree(tmp_path / 'wt', repo['bare'])
        run, _lines = push(tree, alice, {'a.txt': 'a'}, 'a')
    finally:
        env.stop()
    assert run['status'] == 'ERROR'
    assert run['status_reason'].startswith('config.secrets: no [secrets] key opens it')
