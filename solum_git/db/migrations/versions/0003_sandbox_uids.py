"""sandbox uids: one unix uid per project for its local runs and apps

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0003'
down_revision = '0002'

DateTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql')


def upgrade():
    op.create_table(
        'sandbox_uids',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('project_id', sa.String(64), nullable=False),
        sa.Column('uid', sa.BigInteger, nullable=False),
        sa.Column('created_at', DateTime, nullable=False),
        sa.UniqueConstraint('project_id', name='uniq_sandbox_uids0project_id'),
        sa.UniqueConstraint('uid', name='uniq_sandbox_uids0uid'),
    )
