import pytest

from solum_git import bootstrap
from solum_git.db import migration
from tests import helpers
from tests.peers.fixtures import keystone  # noqa: F401
from tests.peers.fixtures import swift  # noqa: F401
from tests.peers.fixtures import swift_keystone  # noqa: F401


@pytest.fixture(params=helpers.BACKENDS)
def db_url(request, tmp_path):
    """Each test using it runs on SQLite, MariaDB and PostgreSQL."""
    with helpers.database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path):
    with helpers.database('sqlite', tmp_path) as url:
        yield url


def _root(tmp_path, url, **groups):
    conf = helpers.make_conf(tmp_path / 'state', url, **groups)
    root = bootstrap.build(conf, with_engine=False)
    migration.upgrade(root.db.engine)
    return root


@pytest.fixture
def make_root(tmp_path):
    roots = []

    def make(url, **groups):
        root = _root(tmp_path, url, **groups)
        roots.append(root)
        return root
    yield make
    for root in roots:
        root.db.dispose()


@pytest.fixture
def api(make_root, db_url):
    """The API over real HTTP (threaded server), on every database backend."""
    server = helpers.ThreadedApi(make_root(db_url)).start()
    yield server
    server.stop()


@pytest.fixture
def sqlite_api(make_root, sqlite_url):
    server = helpers.ThreadedApi(make_root(sqlite_url)).start()
    yield server
    server.stop()


@pytest.fixture
def alice(sqlite_api):
    return helpers.Client(sqlite_api.url, 'project-a', 'alice')


@pytest.fixture
def bob(sqlite_api):
    """Same project as alice."""
    return helpers.Client(sqlite_api.url, 'project-a', 'bob')


@pytest.fixture
def mallory(sqlite_api):
    """Another project."""
    return helpers.Client(sqlite_api.url, 'project-m', 'mallory')


@pytest.fixture
def admin(sqlite_api):
    return helpers.Client(sqlite_api.url, 'admin-project', 'root-user', roles=['admin'])
