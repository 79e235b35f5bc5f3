"""Personal access tokens: git over HTTP as their user, with the user's own access.

HTTP basic with the user id as user name and the token as password. Shown
once; stored hashed; on every stack where the user is a member.
"""
import datetime
from typing import List, Optional
import uuid as uuidlib

import sqlalchemy as sa

from solum_git.common import events
from solum_git.common import exception
from solum_git.common import tokens
from solum_git.common import validation
from solum_git.db import models
from solum_git.services import audit
from solum_git.services import base
from solum_git.services import context
from solum_git.services import stacks
from solum_git.services import views


class TokenService(base.Service):
    resource = 'token'
    model = models.Token
    owner_field = 'user_id'
    view = staticmethod(views.token)

    def list(self, ctx: context.RequestContext, limit: Optional[int] = None,
             marker: Optional[str] = None, sort_key: Optional[str] = None,
             sort_dir: Optional[str] = None) -> List[views.View]:
        return self.list_rows(ctx, limit, marker, sort_key, sort_dir)

    def create(self, ctx: context.RequestContext, name: Optional[str] = None,
               expires_at: Optional[datetime.datetime] = None) -> views.View:
        """The new token's view with ``token`` (shown only here)."""
        self.authorize(ctx, 'create', {'user_id': ctx.user_id})
        name = validation.text(name, 'name', 255, required=True)
        validation.ident(ctx.user_id, 'user_id')
        expires_at = tokens.expires_at(expires_at)
        secret = tokens.new_secret()
        with self.db.writer() as session:
            row = models.Token(uuid=str(uuidlib.uuid4()), name=name,
                               token_hash=tokens.hash_secret(secret),
                               expires_at=expires_at, user_id=ctx.user_id,
                               project_id=ctx.project_id)
            session.add(row)
            session.flush()
            audit.by(session, ctx, events.TOKEN_CREATE, 'token', row.uuid, name=name)
            view = views.token(row)
            changed = stacks.bump_for_user(session, ctx.user_id)
        for stack_id in changed:
            self.engine.notify(stack_id)
        view['token'] = secret
        return view

    def delete(self, ctx: context.RequestContext, uuid: str) -> None:
        with self.db.writer() as session:
            row = session.execute(sa.select(models.Token).where(
                models.Token.uuid == uuid)).scalar_one_or_none()
            if row is None:
                raise exception.NotFound('token', uuid)
            self.authorize(ctx, 'delete', {'user_id': row.user_id, 'uuid': uuid},
                           hide=True)
            user_id = row.user_id
            audit.by(session, ctx, events.TOKEN_DELETE, 'token', row.uuid,
                     project_id=row.project_id, owner=user_id)
            session.delete(row)
            session.flush()
            changed = stacks.bump_for_user(session, user_id)
        for stack_id in changed:
            self.engine.notify(stack_id)
