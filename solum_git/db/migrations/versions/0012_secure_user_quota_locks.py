"""user_quota_locks: the row two concurrent key creates of one user count under

Revision ID: 0012
Revises: 0011
"""
from alembic import op
import sqlalchemy as sa

revision = '0012'
down_revision = '0011'


def upgrade():
    op.create_table(
        'user_quota_locks',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('user_id', sa.String(64), nullable=False),
        sa.UniqueConstraint('user_id', name='uniq_user_quota_locks0user_id'),
    )
