"""git push -> solum pipeline -> a workflow on a real Solum 15.0.0, which fetches
exactly the pushed commit.

Solum runs from PyPI in its own virtualenv (tools/solum-testenv.sh, pinned by
OpenStack 2023.2's upper constraints) through tools/solum_harness.py, which
patches, at start-up, Solum 15.0.0's known bugs on that stack (its workflow
controllers' ``super().__init__(self)``, the request context without
Keystone, its SQLite database) and, with ``--worker``, receives each workflow
the API casts and fetches its source with Solum's own worker code
(``DockerHandler._prepare`` -> ``_clone_repo``), its docker client replaced by
one running the containers' commands on this host: see that file. Without
Keystone here, the pipeline uses ``[solum] auth_strategy = noauth`` (the
trigger owner's headers); tests/functional/test_solum_trusts.py has Keystone.

The git server is a real local one (gitolite behind sshd, its HTTP front),
run by a separate solum-git-api with its engine (tests/functional/gitserver.py).
"""
import json
import pathlib
import re
import subprocess
import threading
import urllib.parse

import pytest
import requests

from tests.functional import gitserver
from tests.functional import pushenv
from tests import helpers

TOP = pathlib.Path(__file__).resolve().parents[2]
HEADERS = {'X-User-Id': 'alice', 'X-Project-Id': 'project-a', 'X-Roles': 'member'}


class Solum:
    def __init__(self, tmp, worker=None):
        subprocess.run([str(TOP / 'tools' / 'solum-testenv.sh')], check=True, timeout=900)
        self.port = helpers.free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        self.log = open(tmp / 'solum.log', 'w')
        self.proc = subprocess.Popen(
            [str(TOP / '.venv-solum' / 'bin' / 'python'), str(TOP / 'tools' / 'solum_harness.py'),
             '--port', str(self.port)] + (['--worker', str(worker)] if worker else []),
            stdout=subprocess.PIPE, stderr=self.log, text=True)
        ready = []
        reader = threading.Thread(target=lambda: ready.append(self.proc.stdout.readline()),
                                  daemon=True)
        reader.start()
        reader.join(120)
        if not ready or not ready[0].startswith('READY'):
            self.stop()
            raise RuntimeError('Solum did not start; see %s' % self.log.name)

    def call(self, method, path, **kw):
        return requests.request(method, self.url + path, headers=HEADERS, timeout=30, **kw)

    def check_url(self, url):
        """Solum's own check of an app's source.repository: None, or its refusal."""
        done = subprocess.run(
            [str(TOP / '.venv-solum' / 'bin' / 'python'), '-c',
             'import sys\nfrom solum.api.handlers import common\n'
             'try:\n    common.check_url(sys.argv[1])\n'
             'except Exception as e:\n    print(e)', url],
            capture_output=True, text=True, timeout=60, check=True)
        return done.stdout.strip() or None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def _fetches(worker):
    path = worker / 'fetches.jsonl'
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def _push(dev, work, branch):
    done = dev.git('push', 'origin', 'HEAD:refs/heads/%s' % branch, cwd=work)
    assert done.returncode == 0, done.stderr
    return re.search(r'solum run for %s queued: (\S+)' % branch, done.stderr).group(1)


@pytest.fixture(scope='module')
def solum_runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('solum')
    worker = tmp / 'worker'
    worker.mkdir()
    solum = Solum(tmp, worker)
    try:
        assert solum.call('POST', '/v1/language_packs', json={
            'name': 'python', 'source_uri': 'https://github.com/example/lp.git'}).ok
        app = solum.call('POST', '/v1/apps', json={
            'name': 'premade', 'languagepack': 'python',
            'source': {'repository': 'https://example.invalid/project-a/web.git'},
            'workflow_config': {'test_cmd': 'true', 'run_cmd': 'python3 app.py'}})
        assert app.status_code == 201, app.text
        app_id = app.json()['id']
        with gitserver.stacks_dir() as stacks, helpers.closed_port() as dead_port:
            api = gitserver.GitApi(tmp, stacks, extra={
                'solum': {'url': solum.url, 'auth_strategy': 'noauth'},
                'pipelines': {'retry_backoff': 0.2, 'retry_max_attempts': 2}})
            api.start()
            try:
                yield _world(tmp, worker, solum, app_id, api, dead_port)
            finally:
                api.stop()
    finally:
        solum.stop()


def _world(tmp, worker, solum, app_id, api, dead_port):
    alice = gitserver.Dev(api, tmp, 'project-a', 'alice')
    repo = alice.wait_active(alice.create_repo('web'), timeout=120)
    alice.pin()
    triggers = {}
    # refused until the runs are done: nothing else can take the port meanwhile
    dead = 'http://127.0.0.1:%d' % dead_port
    for branches, config in (
            ('main', {'app_id': app_id, 'actions': ['unittest', 'build']}),
            ('release', {'app_id': app_id}),
            ('typo', {'app_id': 'no-such-app'}),
            ('down', {'app_id': app_id, 'solum_url': dead}),
            ('made', {'create_app': True, 'languagepack': 'python', 'test_cmd': 'true',
                      'actions': ['unittest']})):
        created = alice.api.post('/v1/infrastructure/repos/%s/triggers' % repo['uuid'],
                                 json={'type': 'solum', 'branches': branches,
                                       'config': config})
        assert created.status_code == 201, created.text
        triggers[branches] = created.json()
    # the triggers' deploy tokens are on the git server
    api.wait_applied('project-a')
    done, work = alice.clone(repo['git_url'], 'work')
    assert done.returncode == 0, done.stderr
    # Solum's worker holds its fetches: both pushes land before the first clones
    (worker / 'hold').touch()
    commits, runs = {}, {}
    for name, branch in (('first', 'main'), ('second', 'main'), ('release', 'release'),
                         ('typo', 'typo'), ('down', 'down'), ('made', 'made')):
        commits[name] = alice.commit(work, name, {'app.py': 'print(%r)\n' % name})
        runs[name] = pushenv.wait_run(alice.api, _push(alice, work, branch))
    app_source = solum.call('GET', '/v1/apps/%s' % app_id).json()['source']
    (worker / 'hold').unlink()
    fetches = pushenv.wait_for(lambda: len(_fetches(worker)) >= 4 and _fetches(worker),
                               timeout=120, what="Solum's worker to fetch 4 workflows")
    return {'runs': runs, 'app_id': app_id, 'solum': solum, 'commits': commits,
            'app_source': app_source, 'fetches': fetches, 'triggers': triggers,
            'alice': alice, 'repo': repo, 'tmp': tmp, 'api': api,
            'workflows': solum.call('GET', '/v1/apps/%s/workflows' % app_id).json()}


def _fetch_of(solum_runs, name):
    sha = solum_runs['commits'][name]
    found = [f for f in solum_runs['fetches'] if '/pin/%s/' % sha in
             f['git_info']['source_url']]
    assert len(found) == 1, solum_runs['fetches']
    return found[0]


def test_solums_worker_fetches_exactly_each_pushed_commit(solum_runs):
    for name in ('first', 'second', 'release', 'made'):
        fetch = _fetch_of(solum_runs, name)
        # the git_info Solum's API built: no revision, so its worker cloned "master"
        assert 'revision' not in fetch['git_info']
        assert fetch['sha'] == solum_runs['commits'][name], fetch


def test_a_second_push_before_the_first_clone_leaves_the_first_build_its_commit(
        solum_runs):
    first, second = _fetch_of(solum_runs, 'first'), _fetch_of(solum_runs, 'second')
    assert first['sha'] != second['sha']
    assert first['sha'] == solum_runs['commits']['first']
    # by the time the first workflow cloned, the app's source named a later commit
    assert solum_runs['commits']['first'] not in solum_runs['app_source']['repository']


def test_the_source_solum_git_sets_passes_solums_check_url_and_holds_a_token(solum_runs):
    repository = solum_runs['app_source']['repository']
    assert solum_runs['solum'].check_url(repository) is None
    http_url = solum_runs['alice'].repo(solum_runs['repo']['uuid'])['http_url']
    host = http_url.split('//', 1)[1].rsplit('/', 1)[0]
    assert re.match(r'^http://deploy-[0-9a-f]{12}:[^@]+@%s/pin/[0-9a-f]{40}/web\.git$'
                    % re.escape(host), repository), (repository, http_url)


def test_a_push_creates_a_workflow_that_solum_then_lists(solum_runs):
    run = solum_runs['runs']['first']
    assert run['status'] == 'SUCCESS', run
    assert re.match(r'Solum workflow \S+ \(unittest, build\) created on app \S+ for '
                    r'commit %s' % solum_runs['commits']['first'], run['status_reason'])
    assert run['app_url'].endswith('/v1/apps/%s' % solum_runs['app_id'])
    workflow_id = run['deliveries'][-1]['workflow']
    listed = {w['id']: w for w in solum_runs['workflows']}
    assert listed[workflow_id]['actions'] == ['unittest', 'build']
    assert listed[workflow_id]['app_id'] == solum_runs['app_id']
    fetch = _fetch_of(solum_runs, 'first')
    assert fetch['workflow'] == ['unittest', 'build']


def test_the_token_stays_out_of_run_logs_deliveries_and_trigger_views(solum_runs):
    alice = solum_runs['alice'].api
    secrets = {urllib.parse.urlsplit(f['git_info']['source_url']).password
               for f in solum_runs['fetches']}
    # the main, release and made triggers
    assert len(secrets) == 3 and None not in secrets
    for name in ('first', 'typo'):
        run = solum_runs['runs'][name]
        log = alice.get(run['log_uri']).text
        assert 'PATCH ' in log and ':***@' in log
        for secret in secrets:
            assert secret not in log
            assert secret not in json.dumps(run['deliveries'])
    listed = alice.get('/v1/infrastructure/repos/%s/triggers'
                       % solum_runs['repo']['uuid']).text
    for secret in secrets:
        assert secret not in listed
    assert 'source_url' not in listed and 'trust_id' not in listed


def test_a_trigger_without_actions_asks_for_unittest_build_deploy(solum_runs):
    run = solum_runs['runs']['release']
    assert run['status'] == 'SUCCESS', run
    workflow = {w['id']: w for w in solum_runs['workflows']}[run['deliveries'][-1]['workflow']]
    assert workflow['actions'] == ['unittest', 'build', 'deploy']
    assert len(solum_runs['workflows']) == 3


def test_an_unknown_app_is_a_failed_run_with_solums_answer(solum_runs):
    run = solum_runs['runs']['typo']
    assert run['status'] == 'FAILED'
    assert 'refused to set the app source of app no-such-app (HTTP 404)' in run[
        'status_reason']
    assert len(run['deliveries']) == 1


def test_solum_down_is_retried_then_failed(solum_runs):
    run = solum_runs['runs']['down']
    assert run['status'] == 'FAILED'
    assert 'gave up after 2 attempts' in run['status_reason']
    assert [d['status_code'] for d in run['deliveries']] == [None, None]
    assert all(d['error'] for d in run['deliveries'])


def test_create_app_makes_the_solum_app_from_the_repo_and_builds_on_it(solum_runs):
    trigger = solum_runs['triggers']['made']
    app_id = trigger['config']['app_id']
    assert trigger['config']['create_app'] is True
    app = solum_runs['solum'].call('GET', '/v1/apps/%s' % app_id).json()
    assert app['name'] == 'web' and app['languagepack'] == 'python'
    assert app['workflow_config'] == {'test_cmd': 'true', 'run_cmd': ''}
    run = solum_runs['runs']['made']
    assert run['status'] == 'SUCCESS', run
    assert run['app_url'].endswith('/v1/apps/%s' % app_id)
    assert _fetch_of(solum_runs, 'made')['sha'] == solum_runs['commits']['made']


def test_a_solum_trigger_names_an_app_or_makes_one(solum_runs):
    alice, repo = solum_runs['alice'].api, solum_runs['repo']
    tokens = '/v1/infrastructure/repos/%s/deploy_tokens' % repo['uuid']
    before = alice.get(tokens).json()
    for config, field in (({}, 'config.app_id'),
                          ({'create_app': True}, 'config.languagepack'),
                          ({'create_app': 'yes', 'languagepack': 'python'},
                           'config.create_app'),
                          ({'app_id': 'x', 'create_app': True, 'languagepack': 'python'},
                           'config.app_id'),
                          ({'app_id': 'x', 'run_cmd': 'python3 app.py'}, 'config.run_cmd')):
        r = alice.post('/v1/infrastructure/repos/%s/triggers' % repo['uuid'],
                       json={'type': 'solum', 'branches': 'x', 'config': config})
        assert r.status_code == 400, (config, r.text)
        assert r.json()['faultstring'].startswith(field + ':'), r.text
    # Solum 15 answers 500 for an unknown language pack: 503, and nothing kept
    r = alice.post('/v1/infrastructure/repos/%s/triggers' % repo['uuid'], json={
        'type': 'solum', 'branches': 'x',
        'config': {'create_app': True, 'languagepack': 'no-such-lp'}})
    assert r.status_code == 503, r.text
    # nothing made for a refused trigger
    assert alice.get(tokens).json() == before


def test_deleting_the_trigger_revokes_its_deploy_token(solum_runs):
    # last in this module: it deletes a trigger of the fixture
    dev, repo = solum_runs['alice'], solum_runs['repo']
    alice = dev.api
    trigger = solum_runs['triggers']['release']
    url = _fetch_of(solum_runs, 'release')['git_info']['source_url']
    clone = ['git', 'clone', '-q', '--depth', '1', '-b', 'master', url]
    assert subprocess.run(clone + [str(solum_runs['tmp'] / 'before')],
                          capture_output=True).returncode == 0
    assert alice.delete('/v1/infrastructure/repos/%s/triggers/%s' % (
        repo['uuid'], trigger['uuid'])).status_code == 204
    solum_runs['api'].wait_applied('project-a')
    done = subprocess.run(clone + [str(solum_runs['tmp'] / 'after')], capture_output=True,
                          text=True, env={'GIT_TERMINAL_PROMPT': '0', 'PATH': '/usr/bin:/bin'})
    assert done.returncode != 0 and 'Authentication failed' in done.stderr, done.stderr
    # the other triggers' tokens stay
    assert len(alice.get('/v1/infrastructure/repos/%s/deploy_tokens'
                         % repo['uuid']).json()) == 4
