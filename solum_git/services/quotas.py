"""Quotas: [quota]'s defaults, a project's own limits (admins set them), the checks.

Counted limits (repos, keys per user, triggers per repo) are checked here when
something is created, inside the transaction that creates it: a refusal is a
403 naming the quota and its limit. That transaction first locks the row the
count belongs to (the project's stack, the repo, the user's ``lock_user``
row), so concurrent creates count one after the other; first, because on
MariaDB (REPEATABLE READ) a read before the lock would fix the snapshot the
count then sees, without the row the creator before it committed.

The repo size is the git server's to enforce when a push arrives
(solum_git/server/guard.py); its limit reaches the server with the rest of
the stack's config.
"""
from typing import Any, Optional

from oslo_db import exception as db_exc
import sqlalchemy as sa
from sqlalchemy import orm

from solum_git.common import exception
from solum_git.common import quotas
from solum_git.common import validation
from solum_git.db import models
from solum_git.services import base
from solum_git.services import context
from solum_git.services import stacks
from solum_git.services import views

# what each counted quota limits, for its refusal
_WHAT = {'repos': ('project %s', 'repos'),
         'keys_per_user': ('user %s', 'SSH keys'),
         'triggers_per_repo': ('repo %s', 'triggers')}


def limits(conf: Any, session: orm.Session, project_id: str) -> dict[str, int]:
    row = session.execute(sa.select(models.Quota).where(
        models.Quota.project_id == project_id)).scalar_one_or_none()
    return quotas.effective(conf, row)


def enforce(conf: Any, session: orm.Session, project_id: str, name: str, owner: str,
            used: int) -> None:
    """403 when one more ``name`` (``used`` there now, of ``owner``) passes the limit."""
    found = limits(conf, session, project_id)
    if quotas.exceeded(found, name, used):
        whose, what = _WHAT[name]
        raise exception.Forbidden('quota %s: %s has %d %s, its limit is %d (ask an '
                                  'admin to raise it)' % (name, whose % owner, used,
                                                          what, found[name]))


def lock_user(session: orm.Session, user_id: str) -> None:
    """Hold the user's quota lock row (made the first time) to the end of the
    transaction: the first statement of it (module docstring). Two first-time
    makers on MariaDB may deadlock on it: run the transaction with
    ``db_api.retry_on_lock``."""
    lock = models.UserQuotaLock
    held = sa.select(lock.id).where(lock.user_id == user_id).with_for_update()
    if session.execute(held).first() is not None:
        return
    try:
        with session.begin_nested():
            session.add(lock(user_id=user_id))
    except db_exc.DBDuplicateEntry:
        pass  # a concurrent create made it and holds it: wait for it
    session.execute(held).first()


def _limit(value: Any, field: str) -> Optional[int]:
    """A limit as given: null (back to [quota]'s default), -1 (none) or a count."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not -1 <= value <= 2**31 - 1:
        raise exception.InvalidInput(field, 'must be -1 (no limit), a whole number from '
                                     '0 to 2147483647, or null (the default)')
    return value


class QuotaService(base.Service):
    resource = 'quota'
    model = models.Quota

    def get(self, ctx: context.RequestContext, project_id: str) -> views.View:
        validation.ident(project_id, 'project_id')
        self.authorize(ctx, 'get', {'project_id': project_id})
        with self.db.reader() as session:
            return self._view(session, project_id)

    def _view(self, session, project_id):
        repos = session.execute(sa.select(
            sa.func.count(models.Repo.id), sa.func.max(models.Repo.size_bytes)).where(
                models.Repo.project_id == project_id)).one()
        usage = {'repos': repos[0], 'largest_repo_bytes': repos[1] or 0}
        return views.quota(project_id, limits(self.conf, session, project_id), usage)

    def set(self, ctx: context.RequestContext, project_id: str,
            values: dict[str, Any]) -> views.View:
        """Set the given limits; one left out keeps its value, null is the default."""
        validation.ident(project_id, 'project_id')
        self.authorize(ctx, 'update', {'project_id': project_id})
        unknown = sorted(set(values) - set(quotas.NAMES))
        if unknown:
            raise exception.InvalidInput(unknown[0], 'is not a quota (quotas: %s)'
                                         % ', '.join(quotas.NAMES))
        given = {name: _limit(value, name) for name, value in values.items()}
        with self.db.writer() as session:
            row = session.execute(sa.select(models.Quota).where(
                models.Quota.project_id == project_id)).scalar_one_or_none()
            if row is None:
                row = models.Quota(project_id=project_id)
                session.add(row)
            for name, value in given.items():
                setattr(row, name, value)
            session.flush()
            view = self._view(session, project_id)
            # the size limit is the git server's to enforce: its config changed
            stack_id = session.execute(sa.select(models.Stack.id).where(
                models.Stack.project_id == project_id)).scalar_one_or_none()
            if stack_id is not None and 'repo_size_mb' in given:
                stacks.bump(session, stack_id)
        if stack_id is not None and 'repo_size_mb' in given:
            self.engine.notify(stack_id)
        return view
