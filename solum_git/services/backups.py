"""Backups of a repo: the links of its chains, newest first (paged like every list)."""
from typing import List, Optional

from oslo_config import cfg
from oslo_policy import policy as oslo_policy

from solum_git.db import api as db_api
from solum_git.db import models
from solum_git.services import base
from solum_git.services import context
from solum_git.services import repos
from solum_git.services import views


class BackupService(base.Service):
    resource = 'backup'
    model = models.Backup

    def __init__(self, conf: cfg.ConfigOpts, db: db_api.Database,
                 enforcer: oslo_policy.Enforcer, engine: base.Notifier,
                 repo_service: repos.RepoService):
        super().__init__(conf, db, enforcer, engine)
        self.repos = repo_service

    def list(self, ctx: context.RequestContext, repo_uuid: str,
             limit: Optional[int] = None, marker: Optional[str] = None,
             sort_key: Optional[str] = None,
             sort_dir: Optional[str] = None) -> List[views.View]:
        with self.db.reader() as session:
            repo = self.repos.find(session, ctx, repo_uuid)
            self.authorize(ctx, 'list', {'project_id': repo.project_id})
            query = session.query(models.Backup).filter(
                models.Backup.repo_uuid == repo.uuid)
            rows = self.paginate(session, query, limit, marker, sort_key, sort_dir)
            return [views.backup(r) for r in rows]
