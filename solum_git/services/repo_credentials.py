"""What deploy tokens and deploy keys share: credentials of one repo, listed by
its project, added and removed by its RW+ members."""
from typing import Any, Callable, List

from oslo_config import cfg
from oslo_policy import policy as oslo_policy
import sqlalchemy as sa

from solum_git.common import events
from solum_git.common import exception
from solum_git.db import api as db_api
from solum_git.services import audit
from solum_git.services import base
from solum_git.services import context
from solum_git.services import repos
from solum_git.services import stacks
from solum_git.services import views


DELETED = {'deploy_token': events.DEPLOY_TOKEN_DELETE,
           'deploy_key': events.DEPLOY_KEY_DELETE}


class RepoCredentialService(base.Service):
    # the view of one row: view(row, repo_uuid)
    repo_view: Callable[[Any, str], views.View]

    def __init__(self, conf: cfg.ConfigOpts, db: db_api.Database,
                 enforcer: oslo_policy.Enforcer, engine: base.Notifier,
                 repo_service: repos.RepoService):
        super().__init__(conf, db, enforcer, engine)
        self.repos = repo_service

    def list(self, ctx: context.RequestContext, repo_uuid: str) -> List[views.View]:
        with self.db.reader() as session:
            repo = self.repos.find(session, ctx, repo_uuid)
            self.authorize(ctx, 'list', {'project_id': repo.project_id})
            rows = session.execute(sa.select(self.model).where(
                self.model.repo_id == repo.id).order_by(
                    self.model.created_at.desc(), self.model.id.desc())).scalars().all()
            return [self.repo_view(r, repo.uuid) for r in rows]

    def delete(self, ctx: context.RequestContext, repo_uuid: str, uuid: str) -> None:
        """Remove it; the git server loses it at the engine's next pass."""
        with audit.denials(self.db, ctx), self.db.writer() as session:
            repo = self.repos.find(session, ctx, repo_uuid)
            self.repos.authorize_owner(session, ctx, repo, self.resource, 'delete')
            row = session.execute(sa.select(self.model).where(
                self.model.repo_id == repo.id,
                self.model.uuid == uuid)).scalar_one_or_none()
            if row is None:
                raise exception.NotFound(self.resource, uuid)
            session.delete(row)
            stacks.bump(session, repo.stack_id)
            audit.by(session, ctx, DELETED[self.resource], 'repo', repo.uuid,
                     project_id=repo.project_id, **{self.resource + '_uuid': uuid})
            stack_id = repo.stack_id
        self.engine.notify(stack_id)
