"""Triggers: which pipelines a push to which branches starts."""
import urllib.parse
import uuid as uuidlib

import sqlalchemy as sa

from solum_git.common import exception
from solum_git.common import validation
from solum_git.db import models
from solum_git.services import base
from solum_git.services import views

TYPES = ('local', 'webhook', 'solum')


def _url(value, field, required):
    validation.text(value, field, 2048, required=required)
    if value is None:
        return
    parsed = urllib.parse.urlsplit(value)
    if parsed.scheme not in ('http', 'https') or not parsed.hostname:
        raise exception.InvalidInput(field, 'must be an http:// or https:// URL')


def _command(value, field):
    if value is None:
        return
    if not isinstance(value, str) or not value.strip() or len(value) > 4096:
        raise exception.InvalidInput(field, 'must be a non-empty shell command of at '
                                     'most 4096 characters')
    if '\x00' in value:
        raise exception.InvalidInput(field, 'must not contain NUL')


_SOLUM_ACTIONS = ('unittest', 'build', 'deploy')

# per type: allowed keys and their checks
_CONFIG = {
    'local': {'test_cmd': lambda v: _command(v, 'config.test_cmd'),
              'run_cmd': lambda v: _command(v, 'config.run_cmd')},
    'webhook': {'url': lambda v: _url(v, 'config.url', True),
                'secret': lambda v: validation.text(v, 'config.secret', 255,
                                                    required=True)},
    'solum': {'app_id': lambda v: validation.ident(v, 'config.app_id'),
              'solum_url': lambda v: _url(v, 'config.solum_url', False),
              'actions': lambda v: _actions(v)},
}
_REQUIRED = {'local': (), 'webhook': ('url', 'secret'), 'solum': ('app_id',)}


def _actions(value):
    if value is None:
        return
    if (not isinstance(value, list) or not value
            or any(a not in _SOLUM_ACTIONS for a in value)):
        raise exception.InvalidInput('config.actions', 'must be a non-empty list of '
                                     + ', '.join(_SOLUM_ACTIONS))


def validate_config(type_, config):
    if type_ not in TYPES:
        raise exception.InvalidInput('type', 'must be one of ' + ', '.join(TYPES))
    config = config or {}
    if not isinstance(config, dict):
        raise exception.InvalidInput('config', 'must be an object')
    allowed = _CONFIG[type_]
    for key in config:
        if key not in allowed:
            raise exception.InvalidInput('config.%s' % key, 'is not a setting of a %s '
                                         'trigger (allowed: %s)'
                                         % (type_, ', '.join(sorted(allowed))))
    for key in _REQUIRED[type_]:
        if config.get(key) is None:
            raise exception.InvalidInput('config.%s' % key, 'is required for a %s '
                                         'trigger' % type_)
    for key, check in allowed.items():
        check(config.get(key))
    return {k: v for k, v in config.items() if v is not None}


class TriggerService(base.Service):
    resource = 'trigger'
    model = models.Trigger

    def __init__(self, conf, db, enforcer, engine, repo_service):
        super().__init__(conf, db, enforcer, engine)
        self.repos = repo_service

    def list(self, ctx, repo_uuid):
        with self.db.reader() as session:
            repo = self.repos.find(session, ctx, repo_uuid)
            self.authorize(ctx, 'list', {'project_id': repo.project_id})
            rows = session.execute(sa.select(models.Trigger).where(
                models.Trigger.repo_id == repo.id).order_by(
                    models.Trigger.created_at.desc(),
                    models.Trigger.id.desc())).scalars().all()
            return [views.trigger(r, repo.uuid) for r in rows]

    def _find(self, session, repo, uuid):
        row = session.execute(sa.select(models.Trigger).where(
            models.Trigger.uuid == uuid,
            models.Trigger.repo_id == repo.id)).scalar_one_or_none()
        if row is None:
            raise exception.NotFound('trigger', uuid)
        return row

    def get(self, ctx, repo_uuid, uuid):
        with self.db.reader() as session:
            repo = self.repos.find(session, ctx, repo_uuid)
            return views.trigger(self._find(session, repo, uuid), repo.uuid)

    def create(self, ctx, repo_uuid, type, branches=None, config=None):
        if branches is not None:
            validation.branch_glob(branches)
        config = validate_config(type, config)
        with self.db.writer() as session:
            repo = self.repos.find(session, ctx, repo_uuid)
            self.repos.authorize_owner(session, ctx, repo, 'trigger', 'create')
            row = models.Trigger(uuid=str(uuidlib.uuid4()), repo_id=repo.id, type=type,
                                 branches=branches or repo.default_branch,
                                 config=config, user_id=ctx.user_id)
            session.add(row)
            session.flush()
            return views.trigger(row, repo.uuid)

    def delete(self, ctx, repo_uuid, uuid):
        with self.db.writer() as session:
            repo = self.repos.find(session, ctx, repo_uuid)
            self.repos.authorize_owner(session, ctx, repo, 'trigger', 'delete')
            session.delete(self._find(session, repo, uuid))
