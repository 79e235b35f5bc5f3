"""push pipeline: hook nonces (replay refusal), run logs and retry times

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0002'
down_revision = '0001'

DateTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql')
LongText = sa.Text().with_variant(mysql.LONGTEXT(), 'mysql')


def upgrade():
    op.create_table(
        'hook_nonces',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('stack_id', sa.Integer,
                  sa.ForeignKey('stacks.id', ondelete='CASCADE'), nullable=False),
        sa.Column('nonce', sa.String(64), nullable=False),
        sa.Column('expires_at', DateTime, nullable=False),
        sa.UniqueConstraint('stack_id', 'nonce', name='uniq_hook_nonces0stack_id0nonce'),
    )
    op.create_index('ix_hook_nonces_expires_at', 'hook_nonces', ['expires_at'])
    with op.batch_alter_table('runs') as batch:
        batch.add_column(sa.Column('log', LongText, nullable=True))
        batch.add_column(sa.Column('next_attempt_at', DateTime, nullable=True))
