"""Protected branches: who may push to the branches a pattern matches, and how.

The git server enforces them when a push arrives (solum_git/server/guard.py,
the rule itself in solum_git/server/policy.py), over SSH and HTTP alike; here
they are kept, checked and handed to the engine like the rest of a repo's
config. Only RW+ members (and admins) change them.
"""
from typing import Any, List, Optional

from oslo_db import exception as db_exc
import sqlalchemy as sa

from solum_git.common import exception
from solum_git.common import validation
from solum_git.db import models
from solum_git.server import policy
from solum_git.services import context
from solum_git.services import repos
from solum_git.services import stacks
from solum_git.services import views


def _flag(value: Any, field: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise exception.InvalidInput(field, 'must be true or false')
    return value


class ProtectedBranchService(repos.RepoScoped):
    resource = 'protected_branch'
    model = models.ProtectedBranch

    def list(self, ctx: context.RequestContext, repo_uuid: str) -> List[views.View]:
        with self.db.reader() as session:
            repo = self.repos.find(session, ctx, repo_uuid)
            self.authorize(ctx, 'list', {'project_id': repo.project_id})
            rows = session.execute(sa.select(models.ProtectedBranch).where(
                models.ProtectedBranch.repo_id == repo.id).order_by(
                    models.ProtectedBranch.pattern)).scalars().all()
            return [views.protected_branch(r, repo.uuid) for r in rows]

    def get(self, ctx: context.RequestContext, repo_uuid: str, pattern: str) -> views.View:
        for view in self.list(ctx, repo_uuid):
            if view['pattern'] == pattern:
                return view
        raise exception.NotFound('protected branch', pattern)

    def set(self, ctx: context.RequestContext, repo_uuid: str, pattern: str,
            push: Optional[str] = None, allow_force_push: Optional[bool] = None,
            allow_delete: Optional[bool] = None) -> views.View:
        """Create or replace the rule of ``pattern`` (fields left out: their defaults)."""
        validation.branch_glob(pattern, 'pattern')
        push = policy.DEFAULT_PUSH if push is None else push
        if push not in policy.PUSH_CHOICES:
            raise exception.InvalidInput('push', 'must be RW (any member who may push) '
                                         'or RW+ (RW+ members only)')
        force = _flag(allow_force_push, 'allow_force_push')
        delete = _flag(allow_delete, 'allow_delete')
        try:
            with self.db.writer() as session:
                repo = self.repos.find(session, ctx, repo_uuid)
                self.repos.authorize_owner(session, ctx, repo, self.resource, 'update')
                row = session.execute(sa.select(models.ProtectedBranch).where(
                    models.ProtectedBranch.repo_id == repo.id,
                    models.ProtectedBranch.pattern == pattern)).scalar_one_or_none()
                if row is None:
                    row = models.ProtectedBranch(repo_id=repo.id, pattern=pattern)
                    session.add(row)
                row.push, row.allow_force_push, row.allow_delete = push, force, delete
                stacks.bump(session, repo.stack_id)
                session.flush()
                view = views.protected_branch(row, repo.uuid)
                stack_id = repo.stack_id
        except db_exc.DBDuplicateEntry:
            raise exception.Conflict('pattern: %s was protected by another request at '
                                     'the same time; try again' % pattern)
        self.engine.notify(stack_id)
        return view

    def remove(self, ctx: context.RequestContext, repo_uuid: str, pattern: str) -> None:
        with self.db.writer() as session:
            repo = self.repos.find(session, ctx, repo_uuid)
            self.repos.authorize_owner(session, ctx, repo, self.resource, 'delete')
            row = session.execute(sa.select(models.ProtectedBranch).where(
                models.ProtectedBranch.repo_id == repo.id,
                models.ProtectedBranch.pattern == pattern)).scalar_one_or_none()
            if row is None:
                raise exception.NotFound('protected branch', pattern)
            session.delete(row)
            stacks.bump(session, repo.stack_id)
            stack_id = repo.stack_id
        self.engine.notify(stack_id)
