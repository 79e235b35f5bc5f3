"""The deploy token a solum run hands Solum, rotated every ``[solum] deploy_token_max_age``.

A solum trigger holds two R deploy tokens of its repo: the current one and
the previous one. When the current one is older than the maximum age, a run
makes a new one (current -> previous, the old previous revoked) and bumps the
stack, so the engine renders it to the git server. Until the server has it
(``applied_version`` reached the bump's version) runs keep using the
previous token: Solum never gets a URL the server would refuse. A token
lives at most two maximum ages: long enough for a queued Solum build to
clone with it.
"""
import datetime
from typing import Optional
import uuid as uuidlib

from oslo_config import cfg
import sqlalchemy as sa

from solum_git.common import tokens
from solum_git.common import urls
from solum_git.db import api as db_api
from solum_git.db import models

Trigger = models.Trigger


def source_url(db: db_api.Database, conf: cfg.ConfigOpts,
               trigger_id: int) -> tuple[Optional[str], Optional[int]]:
    """The clone URL for this run (the repo's http_url, a token in it), or None."""
    rotated = _rotate_if_due(db, conf, trigger_id)
    with db.reader() as session:
        trigger, repo, stack = session.execute(
            sa.select(Trigger, models.Repo, models.Stack)
            .join(models.Repo, models.Repo.id == Trigger.repo_id)
            .join(models.Stack, models.Stack.id == models.Repo.stack_id)
            .where(Trigger.id == trigger_id)).one()
        url = urls.http_url(conf, stack, repo.name)
        token_id, secret = trigger.deploy_token_id, trigger.deploy_secret
        if (trigger.previous_token_id and trigger.token_version
                and stack.applied_version < trigger.token_version):
            token_id, secret = trigger.previous_token_id, trigger.previous_secret
    if not (url and token_id and secret):
        return None, rotated
    return urls.clone_url(url, tokens.deploy_username(token_id), secret), rotated


class _Lost(Exception):
    """Another engine rotated the token first."""


def _rotate_if_due(db, conf, trigger_id):
    """Make the next token if the current one is too old; the stack id if it did."""
    try:
        return _rotate(db, conf, trigger_id)
    except _Lost:
        return None


@db_api.retry_on_lock
def _rotate(db, conf, trigger_id):
    max_age = datetime.timedelta(seconds=conf.solum.deploy_token_max_age)
    with db.writer() as session:
        trigger = session.execute(sa.select(Trigger).where(
            Trigger.id == trigger_id)).scalar_one()
        if not trigger.deploy_token_id:
            return None
        current = session.execute(sa.select(models.DeployToken).where(
            models.DeployToken.uuid == trigger.deploy_token_id)).scalar_one_or_none()
        if current is None or models.utcnow() - current.created_at < max_age:
            return None
        repo = session.execute(sa.select(models.Repo).where(
            models.Repo.id == trigger.repo_id)).scalar_one()
        if trigger.previous_token_id:
            session.execute(sa.delete(models.DeployToken).where(
                models.DeployToken.uuid == trigger.previous_token_id))
        uuid = str(uuidlib.uuid4())
        secret = tokens.new_secret()
        session.add(models.DeployToken(
            uuid=uuid, repo_id=repo.id, name=current.name, permission='R',
            username=tokens.deploy_username(uuid), token_hash=tokens.hash_secret(secret),
            user_id=current.user_id, project_id=repo.project_id))
        session.execute(sa.update(models.Stack).where(models.Stack.id == repo.stack_id)
                        .values(config_version=models.Stack.config_version + 1))
        version = session.execute(sa.select(models.Stack.config_version).where(
            models.Stack.id == repo.stack_id)).scalar()
        # only if no other engine rotated it meanwhile
        done = session.execute(sa.update(Trigger).where(
            Trigger.id == trigger_id,
            Trigger.deploy_token_id == trigger.deploy_token_id).values(
                previous_token_id=trigger.deploy_token_id,
                previous_secret=trigger.deploy_secret, deploy_token_id=uuid,
                deploy_secret=secret, token_version=version)).rowcount
        if not done:
            raise _Lost()  # the transaction is rolled back: no token, no bump
        return repo.stack_id
