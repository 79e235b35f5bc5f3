"""Retention with real bundles, in the local store and in the real Swift peer:
only the newest ``keep_chains`` chains stay (their files too), a deleted
repo's backups stay ``keep_deleted_days`` and then go, and a deleted stack's
place in the store (its Swift containers) goes with its last backups.

The days are made to pass by moving ``repo_deleted_at`` back in the database.
"""
import contextlib
import sqlite3
import time
import types

import pytest
from swiftclient import exceptions as swift_exc

from tests.functional import gitserver
from tests.functional import test_git_backups as local_tests
from tests.peers import keystone as ks_peer


@pytest.fixture(scope='module', params=['local', 'swift'])
def world(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp('retention-%s' % request.param)
    backup = {'max_lag': 2, 'full_every': 1, 'keep_chains': 2, 'keep_deleted_days': 3}
    extra = {'backup': backup}
    w = types.SimpleNamespace(tmp=tmp, kind=request.param, conn=None)
    if request.param == 'local':
        backup['local_path'] = w.store = tmp / 'store'
    else:
        keystone = request.getfixturevalue('keystone')
        swift = request.getfixturevalue('swift_keystone')
        user = keystone.make_user(roles=('member',))
        backup['store'] = 'swift'
        extra['backup_swift'] = {'auth_type': 'password', 'auth_url': keystone.url,
                                 'username': user.name, 'password': user.password,
                                 'project_name': user.project_name,
                                 'user_domain_id': ks_peer.DOMAIN,
                                 'project_domain_id': ks_peer.DOMAIN,
                                 'segment_size': 64 * 1024}
        w.conn = swift.connection(user)
    with gitserver.stacks_dir() as stacks:
        w.api = gitserver.GitApi(tmp, stacks, extra=extra)
        w.api.start()
        try:
            w.alice = gitserver.Dev(w.api, tmp, 'project-keep-%s' % request.param, 'alice')
            yield w
        finally:
            w.api.stop()


def stored(w, stack_uuid):
    """Every object the store holds for the stack, seen from outside solum-git;
    None when its place (directory, containers) is gone."""
    if w.kind == 'local':
        top = w.store / stack_uuid
        if not top.exists():
            return None
        return {str(p.relative_to(top)) for p in top.rglob('*') if p.is_file()}
    container = 'solum-git-backups-%s' % stack_uuid
    names = set()
    for name in (container, container + '_segments'):
        try:
            names |= {o['name'] for o in w.conn.get_container(name, full_listing=True)[1]}
        except swift_exc.ClientException as e:
            assert e.http_status == 404, e
            if name == container:
                return None
    return names


def db(w):
    return contextlib.closing(sqlite3.connect(str(w.api.db_path), timeout=30))


def rows_of(w, repo_uuid):
    with db(w) as conn:
        return conn.execute('SELECT COUNT(*) FROM backups WHERE repo_uuid = ?',
                            (repo_uuid,)).fetchone()[0]


def days_pass(w, days):
    """Every deleted repo's delete moved ``days`` back."""
    with db(w) as conn:
        conn.execute("UPDATE backups SET repo_deleted_at = datetime(repo_deleted_at, ?) "
                     "WHERE repo_deleted_at IS NOT NULL", ('-%d days' % days,))
        conn.commit()


def backups(w, repo):
    r = w.alice.api.get('/v1/infrastructure/repos/%s/backups' % repo['uuid'])
    assert r.status_code == 200, r.text
    return r.json()


def pushed_and_covered(w, repo, work, message):
    w.alice.commit(work, message)
    done = w.alice.push(work)
    assert done.returncode == 0, done.stderr
    return local_tests.wait_covered(w, repo, local_tests.server_refs(w, repo['name']))


def test_only_the_newest_chains_stay_with_their_bundles(world):
    w = world
    repo = w.alice.wait_active(w.alice.create_repo('kept'))
    w.stack = w.alice.pin()
    done, work = w.alice.clone(repo['git_url'], 'kept')
    assert done.returncode == 0, done.stderr
    chains = []
    for n in range(6):
        found = pushed_and_covered(w, repo, work, 'kept %d' % n)
        if found[0]['chain'] not in chains:
            chains.append(found[0]['chain'])
    assert len(chains) >= 3, chains      # full_every 1: a new chain every other push
    found = gitserver.wait_for(
        lambda: (lambda b: b if len({x['chain'] for x in b}) == 2 else None)(
            backups(w, repo)), timeout=30, what='two chains left')
    assert {b['chain'] for b in found} == set(chains[-2:])
    objects = {o for o in stored(w, w.stack['uuid']) if o.startswith(repo['uuid'] + '/')}
    wanted = {'%s/latest.json' % repo['uuid']}
    for b in found:
        stem = '%s/%s/%06d-%s' % (repo['uuid'], b['chain'], b['seq'], b['uuid'])
        wanted.add(stem + '.refs.json')
        if b['size_bytes']:
            wanted.add(stem + '.bundle')
    assert objects == wanted
    # what is left restores
    refs = local_tests.server_refs(w, 'kept')
    local_tests._lose_and_resync(w, 'kept')
    gitserver.wait_for(lambda: local_tests.server_refs(w, 'kept') == refs, timeout=60,
                       what='kept restored from the chains left')


def test_a_deleted_repos_backups_stay_keep_deleted_days_then_go(world):
    w = world
    repo = w.alice.wait_active(w.alice.create_repo('gone'))
    w.stack = w.alice.pin()
    done, work = w.alice.clone(repo['git_url'], 'gone')
    assert done.returncode == 0, done.stderr
    pushed_and_covered(w, repo, work, 'to be deleted')
    prefix = repo['uuid'] + '/'
    assert any(o.startswith(prefix) for o in stored(w, w.stack['uuid']))
    r = w.alice.api.delete('/v1/infrastructure/repos/%s' % repo['uuid'])
    assert r.status_code == 204, r.text
    time.sleep(5)      # prune passes run every max_lag (2 s): none may take them yet
    assert rows_of(w, repo['uuid']) > 0
    assert any(o.startswith(prefix) for o in stored(w, w.stack['uuid']))
    days_pass(w, 2)
    time.sleep(5)
    assert rows_of(w, repo['uuid']) > 0     # 2 days of 3
    days_pass(w, 2)
    gitserver.wait_for(lambda: rows_of(w, repo['uuid']) == 0, timeout=30,
                       what='its backup rows pruned')
    # its files go with the rows (latest.json just after the last one)
    gitserver.wait_for(lambda: not [o for o in stored(w, w.stack['uuid']) or ()
                                    if o.startswith(prefix)], timeout=10,
                       what='its objects gone from the store')


def test_a_deleted_stacks_place_in_the_store_goes_after_keep_deleted_days(world):
    w = world
    bob = gitserver.Dev(w.api, w.tmp, 'project-gone-%s' % w.kind, 'bob')
    repo = bob.wait_active(bob.create_repo('last'))
    stack = bob.pin()
    done, work = bob.clone(repo['git_url'], 'last')
    assert done.returncode == 0, done.stderr
    bob.commit(work, 'last words')
    assert bob.push(work).returncode == 0
    gitserver.wait_for(lambda: rows_of(w, repo['uuid']) > 0, timeout=30, what='a backup')
    gitserver.wait_for(lambda: any(o.endswith('.bundle') for o in stored(w, stack['uuid'])
                                   or ()), timeout=30, what='its bundle stored')
    assert bob.api.delete('/v1/infrastructure/repos/%s' % repo['uuid']).status_code == 204
    r = bob.api.delete('/v1/infrastructure/stacks/%s' % stack['uuid'])
    assert r.status_code in (202, 204), r.text
    gitserver.wait_for(lambda: bob.api.get('/v1/infrastructure/stacks/%s' % stack['uuid'])
                       .status_code == 404, timeout=60, what='the stack deleted')
    time.sleep(3)
    assert stored(w, stack['uuid'])       # kept: the repo's backups are within the days
    days_pass(w, 4)
    gitserver.wait_for(lambda: stored(w, stack['uuid']) is None, timeout=30,
                       what="the stack's place in the store gone")
    assert rows_of(w, repo['uuid']) == 0
