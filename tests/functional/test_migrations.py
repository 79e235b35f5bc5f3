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


def test_upgrade_seals_the_stacks_private_keys_and_a_new_first_key_still_opens_them(
        db_url, tmp_path):
    from cryptography import fernet

    from solum_git.cmd import manage
    from solum_git.common import secretbox
    from solum_git.db import stack_keys
    from solum_git.gitolite import admin
    from solum_git.provisioners import hostkeys

    old_key, new_key = secretbox.new_key(), secretbox.new_key()
    admin_key, host_key = admin.generate_key(), hostkeys.generate()[0]
    db = db_api.Database(db_url)
    try:
        migration.upgrade(db.engine, '0010')
        with db.engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO stacks (uuid, name, project_id, user_id, provisioner, status, "
                "hook_secret, admin_private_key, ssh_host_private_key, config_version, "
                "applied_version, resync_requested, resync_done, created_at) VALUES "
                "('u1', 'n', 'p', 'u', 'local', 'ACTIVE', 'h', :a, :k, 1, 1, 0, 0, "
                "CURRENT_TIMESTAMP)"), {'a': admin_key, 'k': host_key})
        # no key to seal them with: nothing changes, the upgrade says why
        try:
            migration.upgrade(db.engine)
            raise AssertionError('upgraded without a [secrets] key')
        except secretbox.NoKey as e:
            assert 'fernet_keys' in str(e)
        assert migration.version(db.engine) == '0010'
        conf = helpers.make_conf(tmp_path / 'state', db_url,
                                 secrets={'fernet_keys': [old_key]})
        migration.upgrade(db.engine, conf=conf)
        with db.reader() as session:
            row = session.execute(sa.select(models.Stack)).scalar_one()
            stored = (row.admin_private_key, row.ssh_host_private_key)
            assert not any('PRIVATE KEY' in value for value in stored)
            # rotation: a new key first, the old one after, opens the old rows
            conf.set_override('fernet_keys', [new_key, old_key], group='secrets')
            plain = stack_keys.snapshot(secretbox.SecretBox(conf), row)
        assert (plain.admin_private_key, plain.ssh_host_private_key) == (admin_key,
                                                                         host_key)
        assert manage._rotate_all(db, secretbox.SecretBox(conf)) == 2
        with db.reader() as session:
            row = session.execute(sa.select(models.Stack)).scalar_one()
            assert fernet.Fernet(new_key.encode()).decrypt(
                row.admin_private_key.encode()).decode() == admin_key
    finally:
        db.dispose()
