"""Repos: created in the project's stack; the creator becomes RW+."""
import uuid as uuidlib

from oslo_db import exception as db_exc
import sqlalchemy as sa

from solum_git.common import exception
from solum_git.common import validation
from solum_git.db import models
from solum_git.services import base
from solum_git.services import stacks
from solum_git.services import views

_BRANCH = 'a branch name: 1-255 characters of A-Za-z0-9._/-, no "..", no glob'


def _branch(value):
    validation.branch_glob(value, 'default_branch')
    if any(c in value for c in '*?[]{},'):
        raise exception.InvalidInput('default_branch', 'must be ' + _BRANCH)
    return value


class RepoService(base.Service):
    resource = 'repo'
    model = models.Repo
    view = staticmethod(views.repo)

    def __init__(self, conf, db, enforcer, engine, stack_service):
        super().__init__(conf, db, enforcer, engine)
        self.stacks = stack_service

    def find(self, session, ctx, uuid):
        """A repo the caller may see, else 404 (another project's repo included)."""
        row = session.execute(sa.select(models.Repo).where(
            models.Repo.uuid == uuid)).scalar_one_or_none()
        if row is None:
            raise exception.NotFound('repo', uuid)
        self.authorize(ctx, 'get', {'project_id': row.project_id, 'uuid': uuid},
                       hide=True)
        return row

    def caller_permission(self, session, ctx, repo_row):
        return session.execute(sa.select(models.Member.permission).where(
            models.Member.repo_id == repo_row.id,
            models.Member.user_id == ctx.user_id)).scalar_one_or_none() or ''

    def authorize_owner(self, session, ctx, repo_row, resource, action):
        """RW+ members (and admins) may change a repo, its members, its triggers."""
        target = {'project_id': repo_row.project_id, 'uuid': repo_row.uuid,
                  'caller_permission': self.caller_permission(session, ctx, repo_row)}
        rule = 'solum_git:%s:%s' % (resource, action)
        creds = {'project_id': ctx.project_id, 'user_id': ctx.user_id,
                 'roles': ctx.roles}
        if not self.enforcer.authorize(rule, target, creds):
            raise exception.Forbidden('%s %s: only RW+ members of repo %s may do this'
                                      % (resource, action, repo_row.name))

    def list(self, ctx, limit=None, marker=None, sort_key=None, sort_dir=None,
             name=None):
        """``name``: only the repo of that exact name (how the CLI finds one)."""
        validation.text(name, 'name', 100)
        filters = [models.Repo.name == name] if name is not None else []
        return self.list_rows(ctx, limit, marker, sort_key, sort_dir, *filters)

    def get(self, ctx, uuid):
        with self.db.reader() as session:
            return views.repo(self.find(session, ctx, uuid))

    def create(self, ctx, name, description=None, default_branch=None):
        self.authorize(ctx, 'create', {'project_id': ctx.project_id})
        validation.repo_name(name)
        validation.text(description, 'description', 255)
        default_branch = _branch(default_branch or 'main')
        stack_id = self.stacks.ensure(ctx)
        try:
            with self.db.writer() as session:
                stack = session.get(models.Stack, stack_id)
                if stack is None or stack.status == stacks.DELETING:
                    raise exception.Conflict("the project's git server is being "
                                             'deleted; try again when it is gone')
                row = models.Repo(
                    uuid=str(uuidlib.uuid4()), name=name, description=description,
                    default_branch=default_branch, project_id=ctx.project_id,
                    user_id=ctx.user_id, stack_id=stack_id, status=stacks.BUILDING)
                session.add(row)
                session.flush()
                session.add(models.Member(repo_id=row.id, user_id=ctx.user_id,
                                          permission='RW+'))
                stacks.bump(session, stack_id)
                session.flush()
                view = views.repo(row)
        except db_exc.DBDuplicateEntry:
            raise exception.Conflict('name: a repo named %s already exists in this '
                                     'project' % name)
        self.engine.notify(stack_id)
        return view

    def update(self, ctx, uuid, name=None, description=None, default_branch=None):
        validation.text(description, 'description', 255)
        if default_branch is not None:
            _branch(default_branch)
        with self.db.writer() as session:
            row = self.find(session, ctx, uuid)
            self.authorize_owner(session, ctx, row, 'repo', 'update')
            if name is not None and name != row.name:
                raise exception.InvalidInput('name', 'cannot be changed (create a '
                                             'new repo and push to it)')
            if description is not None:
                row.description = description
            if default_branch is not None and default_branch != row.default_branch:
                row.default_branch = default_branch
                stacks.bump(session, row.stack_id)
            session.flush()
            view = views.repo(row)
            stack_id = row.stack_id
        self.engine.notify(stack_id)
        return view

    def delete(self, ctx, uuid):
        """The row goes now; the engine removes the repo from the server.

        The project's stack goes with its last repo.
        """
        with self.db.writer() as session:
            row = self.find(session, ctx, uuid)
            self.authorize_owner(session, ctx, row, 'repo', 'delete')
            stack_id = row.stack_id
            session.execute(sa.delete(models.Member).where(
                models.Member.repo_id == row.id))
            session.execute(sa.delete(models.Trigger).where(
                models.Trigger.repo_id == row.id))
            push_ids = sa.select(models.Push.id).where(models.Push.repo_id == row.id)
            session.execute(sa.delete(models.Run).where(models.Run.push_id.in_(push_ids)))
            session.execute(sa.delete(models.Push).where(models.Push.repo_id == row.id))
            session.delete(row)
            session.flush()
            left = session.execute(sa.select(sa.func.count(models.Repo.id)).where(
                models.Repo.stack_id == stack_id)).scalar()
            if not left:
                session.execute(sa.update(models.Stack)
                                .where(models.Stack.id == stack_id)
                                .values(status=stacks.DELETING,
                                        status_reason='its last repo was deleted'))
            stacks.bump(session, stack_id)
        self.engine.notify(stack_id)
