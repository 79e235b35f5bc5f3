"""protected branches, per-project quotas, the repo size the server reports

Revision ID: 0010
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0010'
down_revision = '0009'

DateTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql')


def upgrade():
    op.create_table(
        'protected_branches',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('repo_id', sa.Integer, sa.ForeignKey('repos.id', ondelete='CASCADE'),
                  nullable=False),
        sa.Column('pattern', sa.String(255), nullable=False),
        sa.Column('push', sa.String(4), nullable=False),
        sa.Column('allow_force_push', sa.Boolean, nullable=False),
        sa.Column('allow_delete', sa.Boolean, nullable=False),
        sa.Column('created_at', DateTime, nullable=False),
        sa.Column('updated_at', DateTime, nullable=True),
        sa.UniqueConstraint('repo_id', 'pattern',
                            name='uniq_protected_branches0repo_id0pattern'),
    )
    op.create_table(
        'quotas',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('project_id', sa.String(64), nullable=False),
        sa.Column('repos', sa.Integer, nullable=True),
        sa.Column('keys_per_user', sa.Integer, nullable=True),
        sa.Column('triggers_per_repo', sa.Integer, nullable=True),
        sa.Column('repo_size_mb', sa.Integer, nullable=True),
        sa.Column('created_at', DateTime, nullable=False),
        sa.Column('updated_at', DateTime, nullable=True),
        sa.UniqueConstraint('project_id', name='uniq_quotas0project_id'),
    )
    with op.batch_alter_table('repos') as batch:
        batch.add_column(sa.Column('size_bytes', sa.BigInteger, nullable=True))
        batch.add_column(sa.Column('size_at', DateTime, nullable=True))
