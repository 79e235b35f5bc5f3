"""stacks: an operator's resync is a row's intent, not one process's memory

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = '0006'


def upgrade():
    with op.batch_alter_table('stacks') as batch:
        batch.add_column(sa.Column('resync_requested', sa.Integer, nullable=False,
                                   server_default='0'))
        batch.add_column(sa.Column('resync_done', sa.Integer, nullable=False,
                                   server_default='0'))
