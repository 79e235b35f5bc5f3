"""Alembic migrations, run by ``solum-git-manage db upgrade``."""
import os

from alembic import command
from alembic import config as alembic_config
from alembic import migration as alembic_migration

from solum_git.common import secretbox

_SCRIPTS = os.path.join(os.path.dirname(__file__), 'migrations')


def _config(engine, conf=None):
    config = alembic_config.Config()
    config.set_main_option('script_location', _SCRIPTS)
    config.attributes['engine'] = engine
    if conf is not None:
        # for migrations that seal secrets; called only when one has some to seal
        config.attributes['secret_box'] = lambda: secretbox.SecretBox(conf)
    return config


def upgrade(engine, revision='head', conf=None):
    """``conf``: the service's, whose [secrets] keys seal what a migration seals."""
    command.upgrade(_config(engine, conf), revision)


def version(engine):
    with engine.connect() as connection:
        return alembic_migration.MigrationContext.configure(
            connection).get_current_revision()
