"""audit events; the names renamed repos had (the server's old-URL refusals)

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0008'
down_revision = '0007'

DateTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql')


def upgrade():
    op.create_table(
        'events',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('uuid', sa.String(36), nullable=False),
        sa.Column('at', DateTime, nullable=False),
        sa.Column('project_id', sa.String(64), nullable=False),
        sa.Column('user_id', sa.String(64), nullable=False),
        sa.Column('action', sa.String(32), nullable=False),
        sa.Column('outcome', sa.String(16), nullable=False),
        sa.Column('resource_type', sa.String(32), nullable=False),
        sa.Column('resource_uuid', sa.String(36), nullable=False),
        sa.Column('detail', sa.JSON, nullable=False),
        sa.UniqueConstraint('uuid', name='uniq_events0uuid'),
    )
    op.create_index('ix_events_project_at', 'events', ['project_id', 'at'])
    op.create_index('ix_events_resource_at', 'events', ['resource_uuid', 'at'])
    op.create_table(
        'repo_renames',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('repo_id', sa.Integer, sa.ForeignKey('repos.id', ondelete='CASCADE'),
                  nullable=False),
        sa.Column('stack_id', sa.Integer, sa.ForeignKey('stacks.id', ondelete='CASCADE'),
                  nullable=False),
        sa.Column('old_name', sa.String(100), nullable=False),
        sa.Column('moved', sa.Boolean, nullable=False),
        sa.Column('created_at', DateTime, nullable=False),
        sa.UniqueConstraint('repo_id', 'old_name',
                            name='uniq_repo_renames0repo_id0old_name'),
    )
    op.create_index('ix_repo_renames_stack_old', 'repo_renames', ['stack_id', 'old_name'])
