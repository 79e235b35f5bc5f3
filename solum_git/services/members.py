"""Members: who may read (R), push (RW) or rewind (RW+) a repo."""
from typing import List

from oslo_db import exception as db_exc
import sqlalchemy as sa

from solum_git.common import access
from solum_git.common import events
from solum_git.common import exception
from solum_git.common import validation
from solum_git.db import models
from solum_git.services import audit
from solum_git.services import context
from solum_git.services import repos
from solum_git.services import stacks
from solum_git.services import views


class MemberService(repos.RepoScoped):
    resource = 'member'
    model = models.Member
    sort_keys = ('created_at', 'updated_at', 'user_id', 'id')

    def list(self, ctx: context.RequestContext, repo_uuid: str) -> List[views.View]:
        with self.db.reader() as session:
            repo = self.repos.find(session, ctx, repo_uuid)
            self.authorize(ctx, 'list', {'project_id': repo.project_id})
            rows = session.execute(sa.select(models.Member).where(
                models.Member.repo_id == repo.id).order_by(
                    models.Member.created_at, models.Member.id)).scalars().all()
            return [views.member(r, repo.uuid) for r in rows]

    def _owners_left(self, session, repo_id, without_user):
        return session.execute(sa.select(sa.func.count(models.Member.id)).where(
            models.Member.repo_id == repo_id, models.Member.permission == access.OWNER,
            models.Member.user_id != without_user)).scalar()

    def set(self, ctx: context.RequestContext, repo_uuid: str, user_id: str,
            permission: str) -> views.View:
        validation.ident(user_id, 'user_id')
        validation.permission(permission)
        try:
            with audit.denials(self.db, ctx), self.db.writer() as session:
                repo = self.repos.find(session, ctx, repo_uuid)
                self.repos.authorize_owner(session, ctx, repo, 'member', 'update')
                before, changed = None, True
                row = session.execute(sa.select(models.Member).where(
                    models.Member.repo_id == repo.id,
                    models.Member.user_id == user_id)).scalar_one_or_none()
                if row is None:
                    row = models.Member(repo_id=repo.id, user_id=user_id,
                                        permission=permission)
                    session.add(row)
                elif row.permission != permission:
                    before = row.permission
                    if (row.permission == access.OWNER
                            and not self._owners_left(session, repo.id, user_id)):
                        raise exception.Conflict('permission: the last RW+ member of a '
                                                 'repo cannot be downgraded')
                    row.permission = permission
                else:
                    changed = False
                stacks.bump(session, repo.stack_id)
                session.flush()
                if changed:
                    audit.by(session, ctx, events.MEMBER_SET, 'repo', repo.uuid,
                             project_id=repo.project_id, member=user_id,
                             permission=permission, previous=before)
                view = views.member(row, repo.uuid)
                stack_id = repo.stack_id
        except db_exc.DBDuplicateEntry:
            raise exception.Conflict('user_id: %s was added by another request at the '
                                     'same time; try again' % user_id)
        self.engine.notify(stack_id)
        return view

    def remove(self, ctx: context.RequestContext, repo_uuid: str, user_id: str) -> None:
        with audit.denials(self.db, ctx), self.db.writer() as session:
            repo = self.repos.find(session, ctx, repo_uuid)
            self.repos.authorize_owner(session, ctx, repo, 'member', 'delete')
            row = session.execute(sa.select(models.Member).where(
                models.Member.repo_id == repo.id,
                models.Member.user_id == user_id)).scalar_one_or_none()
            if row is None:
                raise exception.NotFound('member', user_id)
            if (row.permission == access.OWNER
                    and not self._owners_left(session, repo.id, user_id)):
                raise exception.Conflict('user_id: the last RW+ member of a repo cannot '
                                         'be removed')
            session.delete(row)
            stacks.bump(session, repo.stack_id)
            audit.by(session, ctx, events.MEMBER_DELETE, 'repo', repo.uuid,
                     project_id=repo.project_id, member=user_id,
                     previous=row.permission)
            stack_id = repo.stack_id
        self.engine.notify(stack_id)
