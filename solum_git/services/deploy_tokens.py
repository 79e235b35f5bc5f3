"""Deploy tokens: git over HTTP to exactly one repo, R (default) or RW.

The secret is shown once, in the answer that makes it; the database and the
git server keep only its hash. The engine renders the tokens of a stack to
its server (render.TOKENS_FILE); a revoked one is gone after its next pass.
"""
import datetime
from typing import Optional
import uuid as uuidlib

from oslo_config import cfg
import sqlalchemy as sa
from sqlalchemy import orm

from solum_git.common import events
from solum_git.common import exception
from solum_git.common import tokens
from solum_git.common import urls
from solum_git.common import validation
from solum_git.db import models
from solum_git.gitolite import render
from solum_git.services import audit
from solum_git.services import context
from solum_git.services import repo_credentials
from solum_git.services import stacks
from solum_git.services import views


class DeployTokenService(repo_credentials.RepoCredentialService):
    resource = 'deploy_token'
    model = models.DeployToken
    repo_view = staticmethod(views.deploy_token)

    def create(self, ctx: context.RequestContext, repo_uuid: str,
               name: Optional[str] = None, permission: Optional[str] = None,
               expires_at: Optional[datetime.datetime] = None) -> views.View:
        """The new token's view with ``token`` and ``clone_url`` (shown only here)."""
        with audit.denials(self.db, ctx), self.db.writer() as session:
            repo = self.repos.find(session, ctx, repo_uuid)
            self.repos.authorize_owner(session, ctx, repo, self.resource, 'create')
            view = issue(self.conf, session, repo, name, permission, expires_at,
                         ctx.user_id)
            audit.by(session, ctx, events.DEPLOY_TOKEN_CREATE, 'repo', repo.uuid,
                     project_id=repo.project_id, deploy_token_uuid=view['uuid'],
                     username=view['username'], permission=view['permission'])
            stack_id = repo.stack_id
        self.engine.notify(stack_id)
        return view


def issue(conf: cfg.ConfigOpts, session: orm.Session, repo: models.Repo,
          name: Optional[str], permission: Optional[str] = None,
          expires_at: Optional[datetime.datetime] = None,
          user_id: Optional[str] = None) -> views.View:
    """Make a deploy token of ``repo`` (a Repo row) in ``session``: no policy check.

    For the API above and for solum-git's own tokens (the solum pipeline's);
    the caller notifies the engine of ``repo.stack_id`` after the commit.
    Returns the view with ``token`` and ``clone_url``, the only time they exist.
    """
    name = validation.text(name, 'name', 255, required=True)
    permission = permission or 'R'
    if permission not in render.DEPLOY_PERMISSIONS:
        raise exception.InvalidInput('permission', 'must be R or RW')
    expires_at = tokens.expires_at(expires_at)
    secret = tokens.new_secret()
    uuid = str(uuidlib.uuid4())
    row = models.DeployToken(
        uuid=uuid, repo_id=repo.id, name=name, permission=permission,
        username=tokens.deploy_username(uuid), token_hash=tokens.hash_secret(secret),
        expires_at=expires_at, user_id=user_id or repo.user_id,
        project_id=repo.project_id)
    session.add(row)
    stacks.bump(session, repo.stack_id)
    session.flush()
    view = views.deploy_token(row, repo.uuid)
    url = urls.http_url(conf, repo.stack, repo.name)
    view['token'] = secret
    view['clone_url'] = urls.clone_url(url, view['username'], secret) if url else None
    return view


def revoke(session: orm.Session, uuid: str) -> bool:
    """Delete a deploy token by uuid (no policy check); False if there was none.

    The caller notifies the engine; the server refuses it after its next pass.
    """
    row = session.execute(sa.select(models.DeployToken).where(
        models.DeployToken.uuid == uuid)).scalar_one_or_none()
    if row is None:
        return False
    repo = session.get(models.Repo, row.repo_id)
    session.delete(row)
    stacks.bump(session, repo.stack_id)
    return True
