"""Stacks: one tenant git server per project, created on demand."""
import secrets
from typing import Any, List, Optional, Sequence
import uuid as uuidlib

from oslo_config import cfg
from oslo_db import exception as db_exc
from oslo_policy import policy as oslo_policy
import sqlalchemy as sa
from sqlalchemy import orm

from solum_git.common import events
from solum_git.common import exception
from solum_git.common import states
from solum_git.common import validation
from solum_git.db import api as db_api
from solum_git.db import models
from solum_git.provisioners import base as provisioners_base
from solum_git.services import audit
from solum_git.services import base
from solum_git.services import context
from solum_git.services import views

StackStatus = states.StackStatus


def bump(session: orm.Session, stack_id: int) -> None:
    """Desired state of a stack changed: the engine will converge it."""
    session.execute(sa.update(models.Stack)
                    .where(models.Stack.id == stack_id)
                    .values(config_version=models.Stack.config_version + 1))


def bump_for_user(session: orm.Session, user_id: str) -> Sequence[int]:
    """A user's keys changed: every stack where the user has a repo changes."""
    stack_ids: Sequence[int] = session.execute(
        sa.select(models.Repo.stack_id).distinct()
        .join(models.Member, models.Member.repo_id == models.Repo.id)
        .where(models.Member.user_id == user_id)).scalars().all()
    for stack_id in stack_ids:
        bump(session, stack_id)
    return stack_ids


class StackService(base.Service):
    resource = 'stack'
    model = models.Stack

    def view(self, row: Any) -> views.View:
        return views.stack(row, self.conf)

    def __init__(self, conf: cfg.ConfigOpts, db: db_api.Database,
                 enforcer: oslo_policy.Enforcer, engine: base.Notifier,
                 provisioner: provisioners_base.Provisioner):
        super().__init__(conf, db, enforcer, engine)
        self.provisioner = provisioner

    def _find(self, session, ctx, uuid, action='get'):
        row = session.execute(sa.select(models.Stack).where(
            models.Stack.uuid == uuid)).scalar_one_or_none()
        if row is None:
            raise exception.NotFound('stack', uuid)
        self.authorize(ctx, action, {'project_id': row.project_id, 'uuid': uuid},
                       hide=True)
        return row

    def list(self, ctx: context.RequestContext, limit: Optional[int] = None,
             marker: Optional[str] = None, sort_key: Optional[str] = None,
             sort_dir: Optional[str] = None) -> List[views.View]:
        return self.list_rows(ctx, limit, marker, sort_key, sort_dir)

    def get(self, ctx: context.RequestContext, uuid: str) -> views.View:
        with self.db.reader() as session:
            return self.view(self._find(session, ctx, uuid))

    def new_row(self, session: orm.Session, ctx: context.RequestContext,
                name: Optional[str] = None, description: Optional[str] = None,
                tags: Optional[List[str]] = None,
                image_id: Optional[str] = None) -> models.Stack:
        row = models.Stack(
            uuid=str(uuidlib.uuid4()), name=name or 'git-%s' % ctx.project_id,
            description=description, tags=tags or [], image_id=image_id,
            project_id=ctx.project_id,
            user_id=ctx.user_id, provisioner=self.provisioner.name,
            status=StackStatus.BUILDING, hook_secret=secrets.token_hex(32),
            config_version=1, applied_version=0)
        session.add(row)
        session.flush()
        self.provisioner.reserve(session, row)
        session.flush()
        return row

    def ensure(self, ctx: context.RequestContext) -> int:
        """The id of the project's stack, created (BUILDING) if it has none yet.

        Its own transaction: a second request racing to create the same stack
        loses on the unique project_id and reads the winner's row.
        """
        # several API processes creating stacks at once may pick one port
        for _attempt in range(8):
            with self.db.reader() as session:
                row = session.execute(sa.select(models.Stack).where(
                    models.Stack.project_id == ctx.project_id)).scalar_one_or_none()
                if row is not None:
                    if row.status == StackStatus.DELETING:
                        raise exception.Conflict(
                            "the project's git server is being deleted; try again "
                            'when it is gone')
                    return row.id
            try:
                with self.db.writer() as session:
                    return self.new_row(session, ctx).id
            except db_exc.DBDuplicateEntry:
                continue  # lost a race: for the project or for a port
        raise exception.ServiceUnavailable('could not allocate a git server for the '
                                           'project; try again')

    def create(self, ctx: context.RequestContext, name: Optional[str] = None,
               description: Optional[str] = None, tags: Optional[List[str]] = None,
               image_id: Optional[str] = None) -> views.View:
        self.authorize(ctx, 'create', {'project_id': ctx.project_id})
        validation.text(name, 'name', 255)
        validation.text(description, 'description', 255)
        tags = _tags(tags)
        self._image(image_id)
        conflict = exception.Conflict('project_id: this project already has a git '
                                      'stack (one per project)')
        try:
            with self.db.writer() as session:
                if session.execute(sa.select(models.Stack.id).where(
                        models.Stack.project_id == ctx.project_id)).first():
                    raise conflict
                row = self.new_row(session, ctx, name, description, tags, image_id)
                audit.by(session, ctx, events.STACK_CREATE, 'stack', row.uuid)
                view = self.view(row)
                stack_id = row.id
        except db_exc.DBDuplicateEntry:
            raise conflict
        self.engine.notify(stack_id)
        return view

    def _image(self, image_id):
        validation.text(image_id, 'image_id', 255)
        if image_id is not None and not self.provisioner.chooses_image():
            raise exception.InvalidInput('image_id', 'only a git server that is a Heat VM '
                                         'has an image ([provisioner] driver = heat, '
                                         '[heat] server_type = vm); leave it out')

    def update(self, ctx: context.RequestContext, uuid: str, name: Optional[str] = None,
               description: Optional[str] = None, tags: Optional[List[str]] = None,
               image_id: Optional[str] = None) -> views.View:
        validation.text(name, 'name', 255)
        validation.text(description, 'description', 255)
        tags = _tags(tags) if tags is not None else None
        with self.db.writer() as session:
            row = self._find(session, ctx, uuid, 'update')
            if image_id is not None and image_id != row.image_id:
                raise exception.InvalidInput('image_id', 'is chosen when the stack is '
                                             'made (another image would mean a new '
                                             'server); send it unchanged or leave it out')
            if name is not None:
                if not name.strip():
                    raise exception.InvalidInput('name', 'must not be empty')
                row.name = name
            if description is not None:
                row.description = description
            if tags is not None:
                row.tags = tags
            session.flush()
            return self.view(row)

    def delete(self, ctx: context.RequestContext, uuid: str) -> None:
        with self.db.writer() as session:
            row = self._find(session, ctx, uuid, 'delete')
            repos = session.execute(sa.select(sa.func.count(models.Repo.id)).where(
                models.Repo.stack_id == row.id)).scalar()
            if repos:
                raise exception.Conflict('stack has %d repos; delete them first' % repos)
            row.status = StackStatus.DELETING
            row.status_reason = 'deleted by %s' % ctx.user_id
            audit.by(session, ctx, events.STACK_DELETE, 'stack', row.uuid,
                     project_id=row.project_id)
            bump(session, row.id)
            stack_id = row.id
        self.engine.notify(stack_id)

    def resync(self, ctx: context.RequestContext, uuid: str) -> None:
        with self.db.writer() as session:
            row = self._find(session, ctx, uuid, 'resync')
            if row.status == StackStatus.DELETING:
                raise exception.Conflict('stack is being deleted')
            audit.by(session, ctx, events.STACK_RESYNC, 'stack', row.uuid,
                     project_id=row.project_id)
            # the intent lives in the row: whichever engine owns the stack does it
            session.execute(sa.update(models.Stack).where(models.Stack.id == row.id)
                            .values(resync_requested=models.Stack.resync_requested + 1))
            stack_id = row.id
        self.engine.notify(stack_id)

    def restore(self, ctx: context.RequestContext, uuid: str) -> None:
        """Every repo of the server back from its latest backup (newer refs kept)."""
        with self.db.writer() as session:
            row = self._find(session, ctx, uuid, 'restore')
            if row.status == StackStatus.DELETING:
                raise exception.Conflict('stack is being deleted')
            row.restore_requested_at = models.utcnow()
            audit.by(session, ctx, events.STACK_RESTORE, 'stack', row.uuid,
                     project_id=row.project_id)
            # done by a deep pass, asked like a resync: in the row, for the owning engine
            session.execute(sa.update(models.Stack).where(models.Stack.id == row.id)
                            .values(resync_requested=models.Stack.resync_requested + 1))
            bump(session, row.id)
            stack_id = row.id
        self.engine.notify(stack_id)


def _tags(tags):
    if tags is None:
        return []
    if not isinstance(tags, list) or len(tags) > 50:
        raise exception.InvalidInput('tags', 'must be a list of at most 50 strings')
    for tag in tags:
        validation.text(tag, 'tags', 64, required=True)
    return tags
