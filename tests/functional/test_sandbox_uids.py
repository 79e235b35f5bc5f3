"""One uid per project, on SQLite, MariaDB and PostgreSQL: allocated once, never
shared, never one the host uses, never past uid_max."""
import concurrent.futures
import pwd
import subprocess
import types

import pytest

from solum_git.db import api as db_api
from solum_git.db import migration
from solum_git.engine import sandbox_uids


@pytest.fixture
def db(db_url):
    database = db_api.Database(db_url)
    migration.upgrade(database.engine)
    yield database
    database.dispose()


def _opts(low=1900000000, high=1999999999):
    return types.SimpleNamespace(uid_min=low, uid_max=high)


def test_a_project_keeps_its_uid_and_projects_never_share_one(db):
    first = sandbox_uids.uid_for(db, _opts(), 'project-a')
    assert sandbox_uids.uid_for(db, _opts(), 'project-a') == first
    second = sandbox_uids.uid_for(db, _opts(), 'project-b')
    assert first != second and 1900000000 <= first < second


def test_concurrent_allocations_get_distinct_uids(db):
    projects = ['p-%d' % i for i in range(12)] * 2
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        uids = list(pool.map(lambda p: sandbox_uids.uid_for(db, _opts(), p), projects))
    by_project = dict(zip(projects, uids))
    assert len(set(by_project.values())) == 12
    assert all(by_project[p] == u for p, u in zip(projects, uids)), 'stable per project'


def test_an_exhausted_range_is_an_error_not_a_shared_uid(db):
    opts = _opts(1990000000, 1990000001)
    assert sandbox_uids.uid_for(db, opts, 'a') == 1990000000
    assert sandbox_uids.uid_for(db, opts, 'b') == 1990000001
    with pytest.raises(sandbox_uids.NoFreeUid, match='uid_min..uid_max'):
        sandbox_uids.uid_for(db, opts, 'c')
    with pytest.raises(sandbox_uids.NoFreeUid, match='above uid_max'):
        sandbox_uids.uid_for(db, _opts(5, 4), 'd')


def test_a_uid_in_etc_passwd_is_skipped(sqlite_url):
    """(Run as root, as CI does: it adds a throwaway user.)"""
    name, uid = 'sg-uid-test', 1995000000
    subprocess.run(['useradd', '--no-create-home', '--uid', str(uid), name], check=True)
    db = db_api.Database(sqlite_url)
    try:
        migration.upgrade(db.engine)
        assert pwd.getpwuid(uid).pw_name == name
        assert sandbox_uids.uid_for(db, _opts(uid, uid + 5), 'project-x') == uid + 1
    finally:
        subprocess.run(['userdel', name], check=False)
        db.dispose()
