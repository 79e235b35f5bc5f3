"""Repos: created in the project's stack; the creator becomes RW+."""
from typing import Any, List, Optional
import uuid as uuidlib

from oslo_config import cfg
from oslo_db import exception as db_exc
from oslo_policy import policy as oslo_policy
import sqlalchemy as sa
from sqlalchemy import orm

from solum_git.common import access
from solum_git.common import events
from solum_git.common import exception
from solum_git.common import states
from solum_git.common import validation
from solum_git.db import api as db_api
from solum_git.db import models
from solum_git.services import audit
from solum_git.services import base
from solum_git.services import context
from solum_git.services import quotas
from solum_git.services import stacks
from solum_git.services import views


# an RW+ action refused to a caller: recorded as this event, outcome denied
DENIED_AS = {
    ('repo', 'update'): events.REPO_UPDATE, ('repo', 'rename'): events.REPO_RENAME,
    ('repo', 'delete'): events.REPO_DELETE, ('member', 'update'): events.MEMBER_SET,
    ('member', 'delete'): events.MEMBER_DELETE,
    ('trigger', 'create'): events.TRIGGER_CREATE,
    ('trigger', 'delete'): events.TRIGGER_DELETE,
    ('deploy_token', 'create'): events.DEPLOY_TOKEN_CREATE,
    ('deploy_token', 'delete'): events.DEPLOY_TOKEN_DELETE,
    ('deploy_key', 'create'): events.DEPLOY_KEY_CREATE,
    ('deploy_key', 'delete'): events.DEPLOY_KEY_DELETE,
}


class RepoService(base.Service):
    resource = 'repo'
    model = models.Repo

    def view(self, row: Any) -> views.View:
        return views.repo(row, self.conf)

    def __init__(self, conf: cfg.ConfigOpts, db: db_api.Database,
                 enforcer: oslo_policy.Enforcer, engine: base.Notifier,
                 stack_service: stacks.StackService):
        super().__init__(conf, db, enforcer, engine)
        self.stacks = stack_service

    def find(self, session: orm.Session, ctx: context.RequestContext, uuid: str) -> models.Repo:
        """A repo the caller may see, else 404 (another project's repo included)."""
        row = session.execute(sa.select(models.Repo).where(
            models.Repo.uuid == uuid)).scalar_one_or_none()
        if row is None:
            raise exception.NotFound('repo', uuid)
        self.authorize(ctx, 'get', {'project_id': row.project_id, 'uuid': uuid},
                       hide=True)
        return row

    def caller_permission(self, session: orm.Session, ctx: context.RequestContext,
                          repo_row: models.Repo) -> str:
        return session.execute(sa.select(models.Member.permission).where(
            models.Member.repo_id == repo_row.id,
            models.Member.user_id == ctx.user_id)).scalar_one_or_none() or ''

    def authorize_owner(self, session: orm.Session, ctx: context.RequestContext,
                        repo_row: models.Repo, resource: str, action: str,
                        rule_action: Optional[str] = None) -> None:
        """RW+ members (and admins) may change a repo, its members, its triggers.

        A refused access change raises ``Denied``: wrapped in ``audit.denials``,
        the service records it once its transaction is rolled back.
        """
        target = {'project_id': repo_row.project_id, 'uuid': repo_row.uuid,
                  'caller_permission': self.caller_permission(session, ctx, repo_row)}
        rule = 'solum_git:%s:%s' % (resource, rule_action or action)
        creds = {'project_id': ctx.project_id, 'user_id': ctx.user_id,
                 'roles': ctx.roles}
        if self.enforcer.authorize(rule, target, creds):
            return
        message = ('%s %s: only RW+ members of repo %s may do this'
                   % (resource, action, repo_row.name))
        event = DENIED_AS.get((resource, action))
        if event is None:
            raise exception.Forbidden(message)
        raise exception.Denied(message, {
            'action': event, 'resource_type': 'repo', 'resource_uuid': repo_row.uuid,
            'project_id': repo_row.project_id, 'repo_name': repo_row.name})

    def list(self, ctx: context.RequestContext, limit: Optional[int] = None,
             marker: Optional[str] = None, sort_key: Optional[str] = None,
             sort_dir: Optional[str] = None,
             name: Optional[str] = None) -> List[views.View]:
        """``name``: only the repo of that exact name (how the CLI finds one)."""
        validation.text(name, 'name', 100)
        filters = [models.Repo.name == name] if name is not None else []
        return self.list_rows(ctx, limit, marker, sort_key, sort_dir, *filters)

    def get(self, ctx: context.RequestContext, uuid: str) -> views.View:
        with self.db.reader() as session:
            return self.view(self.find(session, ctx, uuid))

    def create(self, ctx: context.RequestContext, name: str, description: Optional[str] = None,
               default_branch: Optional[str] = None,
               restore_from: Optional[str] = None) -> views.View:
        """``restore_from``: a deleted repo of this project whose backups it starts
        from (the undo of a delete, within ``[backup] keep_deleted_days``)."""
        self.authorize(ctx, 'create', {'project_id': ctx.project_id})
        validation.repo_name(name)
        validation.text(description, 'description', 255)
        if restore_from is not None:
            default_branch = self._deleted_source(ctx, restore_from, default_branch)
        default_branch = validation.branch_name(
            'main' if default_branch is None else default_branch)
        stack_id = self.stacks.ensure(ctx)

        # creates in one project through several API processes: a deadlock on
        # the stack row (MySQL) is run again whole
        @db_api.retry_on_lock
        def insert():
            with self.db.writer() as session:
                # locked: two creates in one project count one after the other
                stack = session.get(models.Stack, stack_id, with_for_update=True)
                if stack is None or stack.status == states.StackStatus.DELETING:
                    raise exception.Conflict("the project's git server is being "
                                             'deleted; try again when it is gone')
                quotas.enforce(self.conf, session, ctx.project_id, 'repos', ctx.project_id,
                               session.execute(sa.select(sa.func.count(models.Repo.id)).where(
                                   models.Repo.project_id == ctx.project_id)).scalar())
                row = models.Repo(
                    uuid=str(uuidlib.uuid4()), name=name, description=description,
                    default_branch=default_branch, project_id=ctx.project_id,
                    user_id=ctx.user_id, stack_id=stack_id,
                    status=states.RepoStatus.BUILDING, restore_from=restore_from)
                session.add(row)
                session.flush()
                session.add(models.Member(repo_id=row.id, user_id=ctx.user_id,
                                          permission=access.OWNER))
                stacks.bump(session, stack_id)
                session.flush()
                audit.by(session, ctx, events.REPO_CREATE, 'repo', row.uuid, name=name,
                         stack_uuid=stack.uuid, restore_from=restore_from)
                return self.view(row)
        try:
            view = insert()
        except db_exc.DBDuplicateEntry:
            raise exception.Conflict('name: a repo named %s already exists in this '
                                     'project' % name)
        self.engine.notify(stack_id)
        return view

    def _deleted_source(self, ctx, restore_from, default_branch):
        """The default branch of the deleted repo ``restore_from`` (checked: ours, backed up)."""
        validation.text(restore_from, 'restore_from', 36, required=True)
        with self.db.reader() as session:
            link = session.execute(
                sa.select(models.Backup).where(models.Backup.repo_uuid == restore_from)
                .order_by(models.Backup.id.desc()).limit(1)).scalar_one_or_none()
            alive = session.execute(sa.select(models.Repo.id).where(
                models.Repo.uuid == restore_from)).first()
        if link is None or (link.project_id != ctx.project_id and not self.is_admin(ctx)):
            raise exception.InvalidInput('restore_from', 'must be the uuid of a deleted '
                                         'repo of this project that has backups (kept '
                                         '[backup] keep_deleted_days after the delete)')
        if alive:
            raise exception.InvalidInput('restore_from', 'repo %s is not deleted; clone '
                                         'it instead' % restore_from)
        if default_branch is None and link.head and link.head.startswith('refs/heads/'):
            return link.head[len('refs/heads/'):]
        return default_branch

    def update(self, ctx: context.RequestContext, uuid: str, name: Optional[str] = None,
               description: Optional[str] = None,
               default_branch: Optional[str] = None) -> views.View:
        """A new ``name`` renames it on the server (history, members, triggers,
        pushes and backups follow: they are the repo's by id); the old URL is
        refused there with a message naming the new one."""
        validation.text(description, 'description', 255)
        if default_branch is not None:
            validation.branch_name(default_branch)
        if name is not None:
            validation.repo_name(name)
        try:
            with audit.denials(self.db, ctx), self.db.writer() as session:
                row = self.find(session, ctx, uuid)
                renaming = name is not None and name != row.name
                self.authorize_owner(session, ctx, row, 'repo',
                                     'rename' if renaming else 'update', 'update')
                changed = {}
                if renaming:
                    changed['old_name'] = row.name
                    changed['name'] = self._rename(session, row, name)
                if description is not None and description != row.description:
                    changed['description'] = description
                    row.description = description
                if default_branch is not None and default_branch != row.default_branch:
                    changed['default_branch'] = default_branch
                    row.default_branch = default_branch
                    stacks.bump(session, row.stack_id)
                session.flush()
                if changed:
                    # one change, one event: a rename says what else it changed
                    audit.by(session, ctx,
                             events.REPO_RENAME if renaming else events.REPO_UPDATE,
                             'repo', row.uuid, project_id=row.project_id, **changed)
                view = self.view(row)
                stack_id = row.stack_id
        except db_exc.DBDuplicateEntry:
            raise exception.Conflict('name: a repo named %s already exists in this '
                                     'project' % name)
        self.engine.notify(stack_id)
        return view

    def _rename(self, session, row, name):
        """The new name in ``row``, the old one kept for the server (RepoRename)."""
        taken = session.execute(sa.select(models.Repo.id).where(
            models.Repo.project_id == row.project_id, models.Repo.name == name)).first()
        if taken:
            raise db_exc.DBDuplicateEntry()
        old = row.name
        # a name it had before is its own again: no refusal for it any more
        session.execute(sa.delete(models.RepoRename).where(
            models.RepoRename.repo_id == row.id, models.RepoRename.old_name == name))
        session.add(models.RepoRename(repo_id=row.id, stack_id=row.stack_id,
                                      old_name=old, moved=False))
        row.name = name
        stacks.bump(session, row.stack_id)
        session.flush()
        return name

    def delete(self, ctx: context.RequestContext, uuid: str) -> None:
        """The row goes now; the engine removes the repo from the server.

        The project's stack goes with its last repo.
        """
        with audit.denials(self.db, ctx), self.db.writer() as session:
            row = self.find(session, ctx, uuid)
            self.authorize_owner(session, ctx, row, 'repo', 'delete')
            stack_id = row.stack_id
            audit.by(session, ctx, events.REPO_DELETE, 'repo', row.uuid,
                     project_id=row.project_id, name=row.name,
                     stack_uuid=session.get(models.Stack, stack_id).uuid)
            session.execute(sa.delete(models.RepoRename).where(
                models.RepoRename.repo_id == row.id))
            session.execute(sa.delete(models.Member).where(
                models.Member.repo_id == row.id))
            session.execute(sa.delete(models.Trigger).where(
                models.Trigger.repo_id == row.id))
            session.execute(sa.delete(models.ProtectedBranch).where(
                models.ProtectedBranch.repo_id == row.id))
            push_ids = sa.select(models.Push.id).where(models.Push.repo_id == row.id)
            session.execute(sa.delete(models.Run).where(models.Run.push_id.in_(push_ids)))
            session.execute(sa.delete(models.Push).where(models.Push.repo_id == row.id))
            # its backups stay [backup] keep_deleted_days: the delete can be undone
            session.execute(sa.update(models.Backup)
                            .where(models.Backup.repo_uuid == row.uuid)
                            .values(repo_deleted_at=models.utcnow())
                            .execution_options(synchronize_session=False))
            session.delete(row)
            session.flush()
            left = session.execute(sa.select(sa.func.count(models.Repo.id)).where(
                models.Repo.stack_id == stack_id)).scalar()
            if not left:
                session.execute(sa.update(models.Stack)
                                .where(models.Stack.id == stack_id)
                                .values(status=states.StackStatus.DELETING,
                                        status_reason='its last repo was deleted'))
            stacks.bump(session, stack_id)
        self.engine.notify(stack_id)


class RepoScoped(base.Service):
    """A service of what belongs to a repo (members, triggers, pushes, runs)."""

    def __init__(self, conf: cfg.ConfigOpts, db: db_api.Database,
                 enforcer: oslo_policy.Enforcer, engine: base.Notifier,
                 repo_service: RepoService):
        super().__init__(conf, db, enforcer, engine)
        self.repos = repo_service
