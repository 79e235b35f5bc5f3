"""A solum trigger's deploy token is rotated every ``[solum] deploy_token_max_age``.

The API and engine of tests/functional/pushenv.py (no git server of its own:
the stack worker's part, the server taking a new token, is done by hand by
raising the stack's ``applied_version``) and a Solum-shaped receiver.
"""
import re
import time
import urllib.parse

import pytest
import sqlalchemy as sa

from solum_git.db import models
from tests.functional import pushenv
from tests.functional import test_solum_trusts

MAX_AGE = 2


@pytest.fixture
def rotating(tmp_path):
    receiver = test_solum_trusts.SolumReceiver()
    env = pushenv.PushEnv(tmp_path, 'sqlite:///%s' % (tmp_path / 'db.sqlite'),
                          solum={'url': receiver.url, 'auth_strategy': 'noauth',
                                 'deploy_token_max_age': MAX_AGE}).start()
    try:
        alice = env.client()
        repo = env.make_repo(alice, 'web')
        trigger = alice.post('/v1/infrastructure/repos/%s/triggers' % repo['uuid'], json={
            'type': 'solum', 'config': {'app_id': 'app-1'}}).json()
        tree = pushenv.WorkTree(tmp_path / 'wt', repo['bare'])
        yield env, alice, repo, trigger, tree, receiver
    finally:
        env.stop()
        receiver.stop()


def _run(alice, tree, receiver, n):
    tree.commit({'app.py': 'print(%d)\n' % n}, 'commit %d' % n)
    uri = re.search(r'solum run for main queued: (\S+)', tree.push('main')[0]).group(1)
    assert pushenv.wait_run(alice, uri)['status'] == 'SUCCESS'
    patch = [r for r in receiver.requests if r[0] == 'PATCH'][-1]
    return urllib.parse.urlsplit(patch[3]['source']['repository']).username


def _tokens(alice, repo):
    return {t['username'] for t in alice.get(
        '/v1/infrastructure/repos/%s/deploy_tokens' % repo['uuid']).json()}


def _server_takes_it(env):
    with env.db.writer() as session:
        session.execute(sa.update(models.Stack).values(
            applied_version=models.Stack.config_version))


def test_a_token_older_than_max_age_is_replaced_once_the_server_has_the_new_one(
        rotating):
    env, alice, repo, trigger, tree, receiver = rotating
    _server_takes_it(env)
    first = _run(alice, tree, receiver, 1)
    assert _tokens(alice, repo) == {first}
    time.sleep(MAX_AGE + 0.2)
    # due: the next token is made, but the server does not have it yet
    assert _run(alice, tree, receiver, 2) == first
    (second,) = _tokens(alice, repo) - {first}
    _server_takes_it(env)
    assert _run(alice, tree, receiver, 3) == second
    time.sleep(MAX_AGE + 0.2)
    # the next rotation revokes the first token
    assert _run(alice, tree, receiver, 4) == second
    (third,) = _tokens(alice, repo) - {first, second}
    assert _tokens(alice, repo) == {second, third}
    # the trigger's deletion revokes both it holds
    assert alice.delete('/v1/infrastructure/repos/%s/triggers/%s' % (
        repo['uuid'], trigger['uuid'])).status_code == 204
    assert _tokens(alice, repo) == set()
