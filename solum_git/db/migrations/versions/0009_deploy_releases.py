"""runs: releases and rollbacks of local triggers; triggers: their config version

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0008'


def upgrade():
    with op.batch_alter_table('runs') as batch:
        batch.add_column(sa.Column('release', sa.Integer, nullable=True))
        batch.add_column(sa.Column('rollback_of', sa.String(36), nullable=True))
        batch.add_column(sa.Column('config_version', sa.Integer, nullable=True))
        batch.create_index('ix_runs_trigger_release', ['trigger_id', 'release'])
    with op.batch_alter_table('triggers') as batch:
        batch.add_column(sa.Column('config_version', sa.Integer, nullable=False,
                                   server_default='1'))
