"""Keys: a user's own SSH public keys, on a stack only while the user has access."""
from typing import List, Optional
import uuid as uuidlib

from oslo_db import exception as db_exc
import sqlalchemy as sa

from solum_git.common import events
from solum_git.common import exception
from solum_git.common import sshkey
from solum_git.common import validation
from solum_git.db import api as db_api
from solum_git.db import models
from solum_git.services import audit
from solum_git.services import base
from solum_git.services import context
from solum_git.services import quotas
from solum_git.services import stacks
from solum_git.services import views


class KeyService(base.Service):
    resource = 'key'
    model = models.Key
    owner_field = 'user_id'
    view = staticmethod(views.key)

    def _find(self, session, ctx, uuid, action):
        row = session.execute(sa.select(models.Key).where(
            models.Key.uuid == uuid)).scalar_one_or_none()
        if row is None:
            raise exception.NotFound('key', uuid)
        self.authorize(ctx, action, {'user_id': row.user_id, 'uuid': uuid}, hide=True)
        return row

    def list(self, ctx: context.RequestContext, limit: Optional[int] = None,
             marker: Optional[str] = None, sort_key: Optional[str] = None,
             sort_dir: Optional[str] = None) -> List[views.View]:
        return self.list_rows(ctx, limit, marker, sort_key, sort_dir)

    def get(self, ctx: context.RequestContext, uuid: str) -> views.View:
        with self.db.reader() as session:
            return views.key(self._find(session, ctx, uuid, 'get'))

    def create(self, ctx: context.RequestContext, public_key: str,
               name: Optional[str] = None) -> views.View:
        self.authorize(ctx, 'create', {'user_id': ctx.user_id})
        key = sshkey.parse(public_key)
        name = validation.text(name, 'name', 255) or key.comment or key.type
        if not name.strip():
            raise exception.InvalidInput('name', 'must not be empty')

        # two first keys of one user at once may deadlock on MariaDB: run again whole
        @db_api.retry_on_lock
        def insert():
            with self.db.writer() as session:
                # locked: two creates of one user count one after the other
                quotas.lock_user(session, ctx.user_id)
                if session.execute(sa.select(models.DeployKey.id).where(
                        models.DeployKey.fingerprint == key.fingerprint)).first():
                    raise db_exc.DBDuplicateEntry()
                quotas.enforce(self.conf, session, ctx.project_id, 'keys_per_user',
                               ctx.user_id, session.execute(
                                   sa.select(sa.func.count(models.Key.id)).where(
                                       models.Key.user_id == ctx.user_id)).scalar())
                row = models.Key(uuid=str(uuidlib.uuid4()), name=name, type=key.type,
                                 public_key=key.openssh, fingerprint=key.fingerprint,
                                 user_id=ctx.user_id, project_id=ctx.project_id)
                session.add(row)
                session.flush()
                audit.by(session, ctx, events.KEY_CREATE, 'key', row.uuid,
                         fingerprint=row.fingerprint, name=name)
                return views.key(row), stacks.bump_for_user(session, ctx.user_id)
        try:
            view, changed = insert()
        except db_exc.DBDuplicateEntry:
            raise exception.Conflict('public_key: a key with fingerprint %s is already '
                                     'registered' % key.fingerprint)
        for stack_id in changed:
            self.engine.notify(stack_id)
        return view

    def delete(self, ctx: context.RequestContext, uuid: str) -> None:
        with self.db.writer() as session:
            row = self._find(session, ctx, uuid, 'delete')
            user_id = row.user_id
            audit.by(session, ctx, events.KEY_DELETE, 'key', row.uuid,
                     project_id=row.project_id, owner=user_id, name=row.name,
                     fingerprint=row.fingerprint)
            session.delete(row)
            session.flush()
            changed = stacks.bump_for_user(session, user_id)
        for stack_id in changed:
            self.engine.notify(stack_id)
