"""solum triggers: the Keystone trust and the deploy token made for each

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'


def upgrade():
    with op.batch_alter_table('triggers') as batch:
        batch.add_column(sa.Column('trust_id', sa.String(64), nullable=True))
        batch.add_column(sa.Column('deploy_token_id', sa.String(36), nullable=True))
        batch.add_column(sa.Column('deploy_secret', sa.String(255), nullable=True))
        batch.add_column(sa.Column('previous_token_id', sa.String(36), nullable=True))
        batch.add_column(sa.Column('previous_secret', sa.String(255), nullable=True))
        batch.add_column(sa.Column('token_version', sa.Integer, nullable=True))
