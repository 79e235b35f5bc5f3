"""Counted quotas under concurrent creates, on SQLite, MariaDB and PostgreSQL.

Requests that arrive together each count what is there, then insert: without a
lock held from before the count to the commit, all of them see room for one
more. The API runs in threads here (helpers.ThreadedApi), each request in its
own transaction, like the threads and workers of solum-git-api.
"""
import concurrent.futures
import threading

import sqlalchemy as sa

from solum_git.db import models
from solum_git.gitolite import admin as gitolite_admin
from tests import helpers

R = '/v1/infrastructure/repos'
Q = '/v1/infrastructure/quotas'
K = '/v1/infrastructure/keys'
AT_ONCE = 8


def _together(calls):
    """Run ``calls`` in threads released at one moment; their status codes."""
    barrier = threading.Barrier(len(calls))

    def call(fn):
        barrier.wait()
        return fn().status_code
    with concurrent.futures.ThreadPoolExecutor(len(calls)) as pool:
        return sorted(pool.map(call, calls))


def _count(api, query):
    with api.root.db.reader() as session:
        return session.execute(query).scalar()


def test_concurrent_key_creates_stay_within_keys_per_user(api):
    admin = helpers.Client(api.url, 'admin-project', 'root-user', roles=['admin'])
    assert admin.put(Q + '/project-r', {'keys_per_user': 2}).status_code == 200
    clients = [helpers.Client(api.url, 'project-r', 'rita') for _ in range(AT_ONCE)]
    keys = [gitolite_admin.public_key(gitolite_admin.generate_key()) + ' k%d' % i
            for i in range(AT_ONCE)]
    codes = _together([lambda c=c, k=k: c.post(K, {'public_key': k})
                       for c, k in zip(clients, keys)])
    assert codes == [201] * 2 + [403] * (AT_ONCE - 2)
    assert _count(api, sa.select(sa.func.count(models.Key.id)).where(
        models.Key.user_id == 'rita')) == 2


def test_concurrent_repo_creates_stay_within_the_repos_quota(api):
    admin = helpers.Client(api.url, 'admin-project', 'root-user', roles=['admin'])
    assert admin.put(Q + '/project-s', {'repos': 2}).status_code == 200
    clients = [helpers.Client(api.url, 'project-s', 'sam') for _ in range(AT_ONCE)]
    # the project's git server first: the creates then race on the count alone
    assert clients[0].post(R, {'name': 'first'}).status_code == 201
    codes = _together([lambda c=c, i=i: c.post(R, {'name': 'r%d' % i})
                       for i, c in enumerate(clients)])
    assert codes == [201] + [403] * (AT_ONCE - 1)
    assert _count(api, sa.select(sa.func.count(models.Repo.id)).where(
        models.Repo.project_id == 'project-s')) == 2


def test_concurrent_trigger_creates_stay_within_triggers_per_repo(api):
    admin = helpers.Client(api.url, 'admin-project', 'root-user', roles=['admin'])
    assert admin.put(Q + '/project-t', {'triggers_per_repo': 2}).status_code == 200
    clients = [helpers.Client(api.url, 'project-t', 'tom') for _ in range(AT_ONCE)]
    repo = clients[0].post(R, {'name': 'app'}).json()
    codes = _together([lambda c=c: c.post(repo['triggers_uri'], {
        'type': 'local', 'config': {'test_cmd': 'true'}}) for c in clients])
    assert codes == [201] * 2 + [403] * (AT_ONCE - 2)
    assert _count(api, sa.select(sa.func.count(models.Trigger.id))) == 2
