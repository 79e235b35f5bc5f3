"""What every service shares: policy checks, project scoping, paging."""
from typing import Any, Callable, Optional, Protocol

from oslo_config import cfg
from oslo_policy import policy as oslo_policy
from sqlalchemy import orm

from solum_git.common import exception
from solum_git.db import api as db_api
from solum_git.services import context
from solum_git.services import views

SORT_DIRS = ('asc', 'desc')


class Notifier(Protocol):
    """What services need of the engine: a stack's desired state changed."""

    def notify(self, stack_id: int, resync: bool = False) -> None: ...


class Service:
    resource: str
    model: Any  # the resource's class in db/models.py
    sort_keys: tuple[str, ...] = ('created_at', 'updated_at', 'name', 'id')
    # whose rows a caller sees in lists: its project's, or its own (keys)
    owner_field = 'project_id'
    view: Callable[[Any], views.View]

    def __init__(self, conf: cfg.ConfigOpts, db: db_api.Database,
                 enforcer: oslo_policy.Enforcer, engine: Notifier):
        self.conf = conf
        self.db = db
        self.enforcer = enforcer
        self.engine = engine

    def authorize(self, ctx: context.RequestContext, action: str, target: dict[str, Any],
                  hide: bool = False) -> None:
        """Policy check; ``hide`` turns a refusal into 404 (never leak existence)."""
        rule = 'solum_git:%s:%s' % (self.resource, action)
        creds = {'project_id': ctx.project_id, 'user_id': ctx.user_id,
                 'roles': ctx.roles}
        target = dict(target)
        try:
            self.enforcer.authorize(rule, target, creds, do_raise=True)
        except oslo_policy.PolicyNotAuthorized:
            if hide:
                raise exception.NotFound(self.resource, target.get('uuid', ''))
            raise exception.Forbidden('%s %s: not allowed for this user'
                                      % (self.resource, action))

    def is_admin(self, ctx: context.RequestContext) -> bool:
        creds = {'project_id': ctx.project_id, 'user_id': ctx.user_id,
                 'roles': ctx.roles}
        return self.enforcer.authorize('context_is_admin', {}, creds)

    def page_args(self, limit: Optional[int], marker: Optional[str],
                  sort_key: Optional[str], sort_dir: Optional[str]
                  ) -> tuple[int, Optional[str], str, str]:
        max_limit = self.conf.api.max_limit
        if limit is None:
            limit = self.conf.api.default_limit
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise exception.InvalidInput('limit', 'must be a positive integer')
        limit = min(limit, max_limit)
        sort_key = sort_key or 'created_at'
        if sort_key not in self.sort_keys:
            raise exception.InvalidInput('sort_key', 'must be one of %s'
                                         % ', '.join(self.sort_keys))
        sort_dir = sort_dir or 'desc'
        if sort_dir not in SORT_DIRS:
            raise exception.InvalidInput('sort_dir', 'must be asc or desc')
        return limit, marker, sort_key, sort_dir

    def list_rows(self, ctx: context.RequestContext, limit: Optional[int], marker: Optional[str],
                  sort_key: Optional[str], sort_dir: Optional[str],
                  *filters: Any) -> list[views.View]:
        """One page of what the caller may see; the admin role sees every owner's."""
        owner = getattr(ctx, self.owner_field)
        self.authorize(ctx, 'list', {self.owner_field: owner})
        with self.db.reader() as session:
            query = session.query(self.model).filter(*filters)
            if not self.is_admin(ctx):
                query = query.filter(getattr(self.model, self.owner_field) == owner)
            rows = self.paginate(session, query, limit, marker, sort_key, sort_dir)
            return [self.view(r) for r in rows]

    def paginate(self, session: orm.Session, query: orm.Query, limit: Optional[int],
                 marker: Optional[str], sort_key: Optional[str],
                 sort_dir: Optional[str]) -> list[Any]:
        limit, marker, sort_key, sort_dir = self.page_args(limit, marker, sort_key,
                                                           sort_dir)
        return db_api.paginate(session, query, self.model, limit, marker, sort_key,
                               sort_dir)
