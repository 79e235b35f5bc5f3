"""backups: bundle chains per repo, the host key kept, restore requests

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0006'
down_revision = '0005'

DateTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql')


def upgrade():
    op.create_table(
        'backups',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('uuid', sa.String(36), nullable=False),
        sa.Column('repo_uuid', sa.String(36), nullable=False),
        sa.Column('repo_name', sa.String(100), nullable=False),
        sa.Column('project_id', sa.String(64), nullable=False),
        sa.Column('stack_uuid', sa.String(36), nullable=False),
        sa.Column('chain', sa.String(36), nullable=False),
        sa.Column('seq', sa.Integer, nullable=False),
        sa.Column('kind', sa.String(16), nullable=False),
        sa.Column('refs', sa.JSON, nullable=False),
        sa.Column('head', sa.String(255), nullable=True),
        sa.Column('size_bytes', sa.BigInteger, nullable=False),
        sa.Column('sha256', sa.String(64), nullable=True),
        sa.Column('verified', sa.Boolean, nullable=False),
        sa.Column('location', sa.String(512), nullable=True),
        sa.Column('store', sa.String(32), nullable=False),
        sa.Column('broken_reason', sa.Text, nullable=True),
        sa.Column('created_at', DateTime, nullable=False),
        sa.Column('repo_deleted_at', DateTime, nullable=True),
        sa.UniqueConstraint('uuid', name='uniq_backups0uuid'),
        sa.UniqueConstraint('repo_uuid', 'chain', 'seq',
                            name='uniq_backups0repo_uuid0chain0seq'),
    )
    op.create_index('ix_backups_repo_created', 'backups', ['repo_uuid', 'created_at'])
    op.create_index('ix_backups_project_id', 'backups', ['project_id'])
    with op.batch_alter_table('repos') as batch:
        batch.add_column(sa.Column('backed_up_at', DateTime, nullable=True))
        batch.add_column(sa.Column('last_pushed_at', DateTime, nullable=True))
        batch.add_column(sa.Column('restore_from', sa.String(36), nullable=True))
    with op.batch_alter_table('stacks') as batch:
        batch.add_column(sa.Column('ssh_host_private_key', sa.Text, nullable=True))
        batch.add_column(sa.Column('restore_requested_at', DateTime, nullable=True))
