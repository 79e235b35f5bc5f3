"""stacks: the private keys sealed under [secrets] (Fernet tokens, db/stack_keys.py)

Revision ID: 0011
Revises: 0010
"""
from alembic import context
from alembic import op
import sqlalchemy as sa

from solum_git.common import secretbox

revision = '0011'
down_revision = '0010'

# the columns as of this revision (db/stack_keys.py COLUMNS may grow later)
COLUMNS = ('admin_private_key', 'ssh_host_private_key', 'http_ca_key', 'http_tls_key')


def _plain(value):
    return bool(value) and value.lstrip().startswith('-----BEGIN')


def upgrade():
    stacks = sa.table('stacks', sa.column('id', sa.Integer),
                      *(sa.column(name, sa.Text) for name in COLUMNS))
    conn = op.get_bind()
    rows = conn.execute(sa.select(stacks)).all()
    todo = [row for row in rows if any(_plain(getattr(row, n)) for n in COLUMNS)]
    if not todo:
        return
    box = context.config.attributes.get('secret_box')
    if box is None:
        raise secretbox.NoKey('%d stacks keep private keys in clear and this upgrade '
                              'seals them: set [secrets] fernet_keys or key_file (the '
                              'keys the engine uses), then upgrade again' % len(todo))
    box = box()
    for row in todo:
        conn.execute(sa.update(stacks).where(stacks.c.id == row.id).values(
            {name: box.seal(getattr(row, name)) for name in COLUMNS
             if _plain(getattr(row, name))}))
