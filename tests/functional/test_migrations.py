"""Alembic migrations equal the models, on SQLite, MariaDB and PostgreSQL."""
import subprocess

from oslo_db.sqlalchemy import test_migrations
import sqlalchemy as sa

from solum_git.db import api as db_api
from solum_git.db import migration
from solum_git.db import models
from tests import helpers


class _Sync(test_migrations.ModelsMigrationsSync):
    def __init__(self, engine):
        self._engine = engine

    def get_engine(self):
        return self._engine

    def get_metadata(self):
        return models.Base.metadata

    def db_sync(self, engine):
        migration.upgrade(engine)

    def include_object(self, object_, name, type_, reflected, compare_to):
        return not (type_ == 'table' and name == 'alembic_version')

    # ModelsMigrationsSync is a testtools mixin; these let it run standalone
    def assertTrue(self, value, msg=None):
        assert value, msg

    def fail(self, msg):
        raise AssertionError(msg)

    def addCleanup(self, function, *args, **kwargs):
        pass  # the db_url fixture drops the whole database


def test_models_match_migrations(db_url):
    db = db_api.Database(db_url)
    try:
        _Sync(db.engine).test_models_sync()
    finally:
        db.dispose()


def test_upgrade_twice_is_a_no_op_and_reports_head(db_url):
    db = db_api.Database(db_url)
    try:
        migration.upgrade(db.engine)
        head = migration.version(db.engine)
        migration.upgrade(db.engine)
        assert migration.version(db.engine) == head
        tables = set(sa.inspect(db.engine).get_table_names())
        assert {'stacks', 'repos', 'keys', 'members', 'triggers', 'pushes',
                'runs'} <= tables
    finally:
        db.dispose()


def test_manage_db_upgrade_and_version(tmp_path, sqlite_url):
    api = helpers.ApiProcess(tmp_path, sqlite_url)
    out = subprocess.run([helpers.VENV_BIN + '/solum-git-manage', '--config-file',
                          str(api.config), 'db', 'version'],
                         capture_output=True, text=True, check=True).stdout
    assert 'none' in out
    api.manage('db', 'upgrade')
    out = api.manage('db', 'version').stdout.strip()
    assert out and out != 'none' and 'none' not in out
