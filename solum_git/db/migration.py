"""Alembic migrations, run by ``solum-git-manage db upgrade``."""
import os

from alembic import command
from alembic import config as alembic_config
from alembic import migration as alembic_migration

_SCRIPTS = os.path.join(os.path.dirname(__file__), 'migrations')


def _config(engine):
    config = alembic_config.Config()
    config.set_main_option('script_location', _SCRIPTS)
    config.attributes['engine'] = engine
    return config


def upgrade(engine, revision='head'):
    command.upgrade(_config(engine), revision)


def version(engine):
    with engine.connect() as connection:
        return alembic_migration.MigrationContext.configure(
            connection).get_current_revision()
