"""stacks, repos, keys, members, triggers, pushes, runs

Revision ID: 0001
Revises:
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0001'
down_revision = None

DateTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql')


def _timestamps():
    return [sa.Column('created_at', DateTime, nullable=False),
            sa.Column('updated_at', DateTime, nullable=True)]


def upgrade():
    op.create_table(
        'stacks',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('uuid', sa.String(36), nullable=False),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('description', sa.String(255), nullable=True),
        sa.Column('tags', sa.JSON, nullable=True),
        sa.Column('project_id', sa.String(64), nullable=False),
        sa.Column('user_id', sa.String(64), nullable=False),
        sa.Column('provisioner', sa.String(32), nullable=False),
        sa.Column('status', sa.String(16), nullable=False),
        sa.Column('status_reason', sa.Text, nullable=True),
        sa.Column('image_id', sa.String(255), nullable=True),
        sa.Column('heat_stack_id', sa.String(36), nullable=True),
        sa.Column('ssh_host', sa.String(255), nullable=True),
        sa.Column('ssh_port', sa.Integer, nullable=True),
        sa.Column('ssh_user', sa.String(64), nullable=True),
        sa.Column('ssh_host_keys', sa.Text, nullable=True),
        sa.Column('hook_secret', sa.String(128), nullable=False),
        sa.Column('admin_private_key', sa.Text, nullable=True),
        sa.Column('config_version', sa.Integer, nullable=False),
        sa.Column('applied_version', sa.Integer, nullable=False),
        sa.Column('lease_owner', sa.String(64), nullable=True),
        sa.Column('lease_expires', DateTime, nullable=True),
        *_timestamps(),
        sa.UniqueConstraint('uuid', name='uniq_stacks0uuid'),
        sa.UniqueConstraint('project_id', name='uniq_stacks0project_id'),
        sa.UniqueConstraint('ssh_host', 'ssh_port', name='uniq_stacks0ssh_host0ssh_port'),
    )
    op.create_table(
        'repos',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('uuid', sa.String(36), nullable=False),
        sa.Column('name', sa.String(100), nullable=False),
        sa.Column('description', sa.String(255), nullable=True),
        sa.Column('default_branch', sa.String(255), nullable=False),
        sa.Column('project_id', sa.String(64), nullable=False),
        sa.Column('user_id', sa.String(64), nullable=False),
        sa.Column('stack_id', sa.Integer, sa.ForeignKey('stacks.id'), nullable=False),
        sa.Column('status', sa.String(16), nullable=False),
        sa.Column('status_reason', sa.Text, nullable=True),
        *_timestamps(),
        sa.UniqueConstraint('uuid', name='uniq_repos0uuid'),
        sa.UniqueConstraint('project_id', 'name', name='uniq_repos0project_id0name'),
    )
    op.create_index('ix_repos_project_created', 'repos', ['project_id', 'created_at'])
    op.create_index('ix_repos_stack_id', 'repos', ['stack_id'])
    op.create_table(
        'keys',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('uuid', sa.String(36), nullable=False),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('type', sa.String(64), nullable=False),
        sa.Column('public_key', sa.Text, nullable=False),
        sa.Column('fingerprint', sa.String(64), nullable=False),
        sa.Column('user_id', sa.String(64), nullable=False),
        sa.Column('project_id', sa.String(64), nullable=False),
        *_timestamps(),
        sa.UniqueConstraint('uuid', name='uniq_keys0uuid'),
        sa.UniqueConstraint('fingerprint', name='uniq_keys0fingerprint'),
    )
    op.create_index('ix_keys_user_created', 'keys', ['user_id', 'created_at'])
    op.create_table(
        'members',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('repo_id', sa.Integer,
                  sa.ForeignKey('repos.id', ondelete='CASCADE'), nullable=False),
        sa.Column('user_id', sa.String(64), nullable=False),
        sa.Column('permission', sa.String(4), nullable=False),
        *_timestamps(),
        sa.UniqueConstraint('repo_id', 'user_id', name='uniq_members0repo_id0user_id'),
    )
    op.create_index('ix_members_user_id', 'members', ['user_id'])
    op.create_table(
        'triggers',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('uuid', sa.String(36), nullable=False),
        sa.Column('repo_id', sa.Integer,
                  sa.ForeignKey('repos.id', ondelete='CASCADE'), nullable=False),
        sa.Column('type', sa.String(16), nullable=False),
        sa.Column('branches', sa.String(255), nullable=False),
        sa.Column('config', sa.JSON, nullable=False),
        sa.Column('user_id', sa.String(64), nullable=False),
        *_timestamps(),
        sa.UniqueConstraint('uuid', name='uniq_triggers0uuid'),
    )
    op.create_index('ix_triggers_repo_id', 'triggers', ['repo_id'])
    op.create_table(
        'pushes',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('uuid', sa.String(36), nullable=False),
        sa.Column('push_id', sa.String(64), nullable=False),
        sa.Column('stack_id', sa.Integer,
                  sa.ForeignKey('stacks.id', ondelete='CASCADE'), nullable=False),
        sa.Column('repo_id', sa.Integer,
                  sa.ForeignKey('repos.id', ondelete='CASCADE'), nullable=False),
        sa.Column('pusher', sa.String(64), nullable=False),
        sa.Column('refs', sa.JSON, nullable=False),
        sa.Column('pushed_at', DateTime, nullable=False),
        sa.Column('created_at', DateTime, nullable=False),
        sa.UniqueConstraint('uuid', name='uniq_pushes0uuid'),
        sa.UniqueConstraint('stack_id', 'push_id', name='uniq_pushes0stack_id0push_id'),
    )
    op.create_index('ix_pushes_repo_created', 'pushes', ['repo_id', 'created_at'])
    op.create_table(
        'runs',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('uuid', sa.String(36), nullable=False),
        sa.Column('push_id', sa.Integer,
                  sa.ForeignKey('pushes.id', ondelete='CASCADE'), nullable=False),
        sa.Column('trigger_id', sa.Integer,
                  sa.ForeignKey('triggers.id', ondelete='SET NULL'), nullable=True),
        sa.Column('type', sa.String(16), nullable=False),
        sa.Column('ref', sa.String(255), nullable=False),
        sa.Column('commit', sa.String(64), nullable=False),
        sa.Column('status', sa.String(16), nullable=False),
        sa.Column('status_reason', sa.Text, nullable=True),
        sa.Column('app_url', sa.String(255), nullable=True),
        sa.Column('attempts', sa.Integer, nullable=False),
        sa.Column('deliveries', sa.JSON, nullable=True),
        sa.Column('started_at', DateTime, nullable=True),
        sa.Column('finished_at', DateTime, nullable=True),
        sa.Column('lease_owner', sa.String(64), nullable=True),
        sa.Column('lease_expires', DateTime, nullable=True),
        *_timestamps(),
        sa.UniqueConstraint('uuid', name='uniq_runs0uuid'),
        sa.UniqueConstraint('push_id', 'trigger_id', name='uniq_runs0push_id0trigger_id'),
    )
    op.create_index('ix_runs_status', 'runs', ['status'])
