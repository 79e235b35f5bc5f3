"""git over HTTP: the stacks' HTTP front, deploy tokens, personal tokens, deploy keys

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0004'
down_revision = '0003'

DateTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql')


def _timestamps():
    return [sa.Column('created_at', DateTime, nullable=False),
            sa.Column('updated_at', DateTime, nullable=True)]


def upgrade():
    with op.batch_alter_table('stacks') as batch:
        batch.add_column(sa.Column('http_port', sa.Integer, nullable=True))
        batch.add_column(sa.Column('http_ca_cert', sa.Text, nullable=True))
        batch.add_column(sa.Column('http_ca_key', sa.Text, nullable=True))
        batch.add_column(sa.Column('http_tls_cert', sa.Text, nullable=True))
        batch.add_column(sa.Column('http_tls_key', sa.Text, nullable=True))
        batch.create_unique_constraint('uniq_stacks0ssh_host0http_port',
                                       ['ssh_host', 'http_port'])
    op.create_table(
        'deploy_tokens',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('uuid', sa.String(36), nullable=False),
        sa.Column('repo_id', sa.Integer, sa.ForeignKey('repos.id', ondelete='CASCADE'),
                  nullable=False, index=True),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('permission', sa.String(4), nullable=False),
        sa.Column('username', sa.String(64), nullable=False),
        sa.Column('token_hash', sa.String(64), nullable=False),
        sa.Column('expires_at', DateTime, nullable=True),
        sa.Column('user_id', sa.String(64), nullable=False),
        sa.Column('project_id', sa.String(64), nullable=False),
        *_timestamps(),
        sa.UniqueConstraint('uuid', name='uniq_deploy_tokens0uuid'),
        sa.UniqueConstraint('token_hash', name='uniq_deploy_tokens0token_hash'),
    )
    op.create_table(
        'tokens',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('uuid', sa.String(36), nullable=False),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('token_hash', sa.String(64), nullable=False),
        sa.Column('expires_at', DateTime, nullable=True),
        sa.Column('user_id', sa.String(64), nullable=False),
        sa.Column('project_id', sa.String(64), nullable=False),
        *_timestamps(),
        sa.UniqueConstraint('uuid', name='uniq_tokens0uuid'),
        sa.UniqueConstraint('token_hash', name='uniq_tokens0token_hash'),
        sa.Index('ix_tokens_user_created', 'user_id', 'created_at'),
    )
    op.create_table(
        'deploy_keys',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('uuid', sa.String(36), nullable=False),
        sa.Column('repo_id', sa.Integer, sa.ForeignKey('repos.id', ondelete='CASCADE'),
                  nullable=False, index=True),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('type', sa.String(64), nullable=False),
        sa.Column('public_key', sa.Text, nullable=False),
        sa.Column('fingerprint', sa.String(64), nullable=False),
        sa.Column('permission', sa.String(4), nullable=False),
        sa.Column('user_id', sa.String(64), nullable=False),
        sa.Column('project_id', sa.String(64), nullable=False),
        *_timestamps(),
        sa.UniqueConstraint('uuid', name='uniq_deploy_keys0uuid'),
        sa.UniqueConstraint('fingerprint', name='uniq_deploy_keys0fingerprint'),
    )
