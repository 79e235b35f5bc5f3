"""Stacks: one tenant git server per project, created on demand."""
import secrets
import uuid as uuidlib

from oslo_db import exception as db_exc
import sqlalchemy as sa

from solum_git.common import exception
from solum_git.common import validation
from solum_git.db import models
from solum_git.services import base
from solum_git.services import views

BUILDING, ACTIVE, ERROR, DELETING = 'BUILDING', 'ACTIVE', 'ERROR', 'DELETING'


def bump(session, stack_id):
    """Desired state of a stack changed: the engine will converge it."""
    session.execute(sa.update(models.Stack)
                    .where(models.Stack.id == stack_id)
                    .values(config_version=models.Stack.config_version + 1))


def bump_for_user(session, user_id):
    """A user's keys changed: every stack where the user has a repo changes."""
    stack_ids = session.execute(
        sa.select(models.Repo.stack_id).distinct()
        .join(models.Member, models.Member.repo_id == models.Repo.id)
        .where(models.Member.user_id == user_id)).scalars().all()
    for stack_id in stack_ids:
        bump(session, stack_id)
    return stack_ids


class StackService(base.Service):
    resource = 'stack'
    model = models.Stack
    view = staticmethod(views.stack)

    def __init__(self, conf, db, enforcer, engine, provisioner):
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

    def list(self, ctx, limit=None, marker=None, sort_key=None, sort_dir=None):
        return self.list_rows(ctx, limit, marker, sort_key, sort_dir)

    def get(self, ctx, uuid):
        with self.db.reader() as session:
            return views.stack(self._find(session, ctx, uuid))

    def new_row(self, session, ctx, name=None, description=None, tags=None):
        row = models.Stack(
            uuid=str(uuidlib.uuid4()), name=name or 'git-%s' % ctx.project_id,
            description=description, tags=tags or [], project_id=ctx.project_id,
            user_id=ctx.user_id, provisioner=self.provisioner.name,
            status=BUILDING, hook_secret=secrets.token_hex(32),
            config_version=1, applied_version=0)
        session.add(row)
        session.flush()
        self.provisioner.reserve(session, row)
        session.flush()
        return row

    def ensure(self, ctx):
        """The id of the project's stack, created (BUILDING) if it has none yet.

        Its own transaction: a second request racing to create the same stack
        loses on the unique project_id and reads the winner's row.
        """
        for _attempt in range(3):
            with self.db.reader() as session:
                row = session.execute(sa.select(models.Stack).where(
                    models.Stack.project_id == ctx.project_id)).scalar_one_or_none()
                if row is not None:
                    if row.status == DELETING:
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

    def create(self, ctx, name=None, description=None, tags=None):
        self.authorize(ctx, 'create', {'project_id': ctx.project_id})
        validation.text(name, 'name', 255)
        validation.text(description, 'description', 255)
        tags = _tags(tags)
        conflict = exception.Conflict('project_id: this project already has a git '
                                      'stack (one per project)')
        try:
            with self.db.writer() as session:
                if session.execute(sa.select(models.Stack.id).where(
                        models.Stack.project_id == ctx.project_id)).first():
                    raise conflict
                row = self.new_row(session, ctx, name, description, tags)
                view = views.stack(row)
                stack_id = row.id
        except db_exc.DBDuplicateEntry:
            raise conflict
        self.engine.notify(stack_id)
        return view

    def update(self, ctx, uuid, name=None, description=None, tags=None):
        validation.text(name, 'name', 255)
        validation.text(description, 'description', 255)
        tags = _tags(tags) if tags is not None else None
        with self.db.writer() as session:
            row = self._find(session, ctx, uuid, 'update')
            if name is not None:
                if not name.strip():
                    raise exception.InvalidInput('name', 'must not be empty')
                row.name = name
            if description is not None:
                row.description = description
            if tags is not None:
                row.tags = tags
            session.flush()
            return views.stack(row)

    def delete(self, ctx, uuid):
        with self.db.writer() as session:
            row = self._find(session, ctx, uuid, 'delete')
            repos = session.execute(sa.select(sa.func.count(models.Repo.id)).where(
                models.Repo.stack_id == row.id)).scalar()
            if repos:
                raise exception.Conflict('stack has %d repos; delete them first' % repos)
            row.status = DELETING
            row.status_reason = 'deleted by %s' % ctx.user_id
            bump(session, row.id)
            stack_id = row.id
        self.engine.notify(stack_id)

    def resync(self, ctx, uuid):
        with self.db.writer() as session:
            row = self._find(session, ctx, uuid, 'resync')
            if row.status == DELETING:
                raise exception.Conflict('stack is being deleted')
            bump(session, row.id)
            stack_id = row.id
        self.engine.notify(stack_id, resync=True)


def _tags(tags):
    if tags is None:
        return []
    if not isinstance(tags, list) or len(tags) > 50:
        raise exception.InvalidInput('tags', 'must be a list of at most 50 strings')
    for tag in tags:
        validation.text(tag, 'tags', 64, required=True)
    return tags
