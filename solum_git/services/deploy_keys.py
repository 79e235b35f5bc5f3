"""Deploy keys: an SSH key with access to exactly one repo, R (default) or RW.

The same key rules as a user's keys (common/sshkey.py); a key is either a
user's or one repo's deploy key, never both (gitolite would know it twice).
"""
from typing import Optional
import uuid as uuidlib

from oslo_db import exception as db_exc
import sqlalchemy as sa

from solum_git.common import events
from solum_git.common import exception
from solum_git.common import sshkey
from solum_git.common import validation
from solum_git.db import models
from solum_git.gitolite import render
from solum_git.services import audit
from solum_git.services import context
from solum_git.services import repo_credentials
from solum_git.services import stacks
from solum_git.services import views


class DeployKeyService(repo_credentials.RepoCredentialService):
    resource = 'deploy_key'
    model = models.DeployKey
    repo_view = staticmethod(views.deploy_key)

    def create(self, ctx: context.RequestContext, repo_uuid: str,
               public_key: Optional[str] = None, name: Optional[str] = None,
               permission: Optional[str] = None) -> views.View:
        if public_key is None:
            raise exception.InvalidInput('public_key', 'is required')
        key = sshkey.parse(public_key)
        name = validation.text(name, 'name', 255) or key.comment or key.type
        if not name.strip():
            raise exception.InvalidInput('name', 'must not be empty')
        permission = permission or 'R'
        if permission not in render.DEPLOY_PERMISSIONS:
            raise exception.InvalidInput('permission', 'must be R or RW')
        try:
            with audit.denials(self.db, ctx), self.db.writer() as session:
                repo = self.repos.find(session, ctx, repo_uuid)
                self.repos.authorize_owner(session, ctx, repo, self.resource, 'create')
                if session.execute(sa.select(models.Key.id).where(
                        models.Key.fingerprint == key.fingerprint)).first():
                    raise _taken(key)
                row = models.DeployKey(
                    uuid=str(uuidlib.uuid4()), repo_id=repo.id, name=name,
                    type=key.type, public_key=key.openssh, fingerprint=key.fingerprint,
                    permission=permission, user_id=ctx.user_id,
                    project_id=repo.project_id)
                session.add(row)
                stacks.bump(session, repo.stack_id)
                session.flush()
                audit.by(session, ctx, events.DEPLOY_KEY_CREATE, 'repo', repo.uuid,
                         project_id=repo.project_id, deploy_key_uuid=row.uuid,
                         fingerprint=row.fingerprint, permission=permission)
                view = views.deploy_key(row, repo.uuid)
                stack_id = repo.stack_id
        except db_exc.DBDuplicateEntry:
            raise _taken(key)
        self.engine.notify(stack_id)
        return view


def _taken(key):
    return exception.Conflict('public_key: a key with fingerprint %s is already '
                              'registered' % key.fingerprint)
