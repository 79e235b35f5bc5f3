"""Triggers: which pipelines a push to which branches starts."""
from typing import Any, List, Optional
import uuid as uuidlib

from oslo_config import cfg
from oslo_policy import policy as oslo_policy
import sqlalchemy as sa

from solum_git.common import addresses
from solum_git.common import events
from solum_git.common import exception
from solum_git.common import validation
from solum_git.db import api as db_api
from solum_git.db import models
from solum_git.services import audit
from solum_git.services import base
from solum_git.services import context
from solum_git.services import deploy_config
from solum_git.services import quotas
from solum_git.services import releases
from solum_git.services import repos
from solum_git.services import solum_triggers
from solum_git.services import views

TYPES = ('local', 'webhook', 'solum')


def _url(value, field, required):
    validation.text(value, field, 2048, required=required)
    if value is None:
        return
    try:
        addresses.check_url(value, allow_private=True)
    except addresses.Refused as e:
        raise exception.InvalidInput(field, str(e))


_SOLUM_ACTIONS = ('unittest', 'build', 'deploy')

# per type: allowed keys and their checks
_CONFIG = {
    'local': deploy_config.SETTINGS,
    'webhook': {'url': lambda v: _url(v, 'config.url', True),
                'secret': lambda v: validation.text(v, 'config.secret', 255,
                                                    required=True)},
    'solum': {'app_id': lambda v: None if v is None else validation.ident(
                  v, 'config.app_id'),
              'solum_url': lambda v: _url(v, 'config.solum_url', False),
              'actions': lambda v: _actions(v),
              'create_app': lambda v: _flag(v, 'config.create_app'),
              'languagepack': lambda v: validation.text(v, 'config.languagepack', 100),
              'test_cmd': lambda v: deploy_config.command(v, 'config.test_cmd'),
              'run_cmd': lambda v: deploy_config.command(v, 'config.run_cmd')},
}
_REQUIRED = {'local': (), 'webhook': ('url', 'secret'), 'solum': ()}
# settings of a solum trigger that only describe the Solum app it makes
_APP_SETTINGS = ('languagepack', 'test_cmd', 'run_cmd')


def _flag(value, field):
    if value is not None and not isinstance(value, bool):
        raise exception.InvalidInput(field, 'must be true or false')


def _solum_app(config):
    """Either an app to use (app_id) or one to make (create_app + languagepack)."""
    if config.get('create_app'):
        if config.get('app_id') is not None:
            raise exception.InvalidInput('config.app_id', 'must be left out with '
                                         'create_app: the trigger makes the app')
        if not config.get('languagepack'):
            raise exception.InvalidInput('config.languagepack', 'is required with '
                                         'create_app (a Solum language pack name)')
        return
    if config.get('app_id') is None:
        raise exception.InvalidInput('config.app_id', 'is required for a solum trigger '
                                     '(or create_app: true)')
    for key in _APP_SETTINGS:
        if config.get(key) is not None:
            raise exception.InvalidInput('config.%s' % key, 'is a setting of the app a '
                                         'trigger makes: only with create_app: true')


def _actions(value):
    if value is None:
        return
    if (not isinstance(value, list) or not value
            or any(a not in _SOLUM_ACTIONS for a in value)):
        raise exception.InvalidInput('config.actions', 'must be a non-empty list of '
                                     + ', '.join(_SOLUM_ACTIONS))


def validate_config(type_: str, config: Optional[dict[str, Any]]) -> dict[str, Any]:
    if type_ not in TYPES:
        raise exception.InvalidInput('type', 'must be one of ' + ', '.join(TYPES))
    if config is None:
        config = {}
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
    if type_ == 'solum':
        _solum_app(config)
    if type_ == 'local':
        deploy_config.check(config)
    return {k: v for k, v in config.items() if v is not None}


class TriggerService(repos.RepoScoped):
    resource = 'trigger'
    model = models.Trigger

    def __init__(self, conf: cfg.ConfigOpts, db: db_api.Database,
                 enforcer: oslo_policy.Enforcer, engine: base.Notifier,
                 repo_service: repos.RepoService):
        super().__init__(conf, db, enforcer, engine, repo_service)
        self.solum = solum_triggers.SolumTriggers(conf, db, engine, repo_service)

    def list(self, ctx: context.RequestContext, repo_uuid: str) -> List[views.View]:
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

    def get(self, ctx: context.RequestContext, repo_uuid: str, uuid: str) -> views.View:
        with self.db.reader() as session:
            repo = self.repos.find(session, ctx, repo_uuid)
            return views.trigger(self._find(session, repo, uuid), repo.uuid)

    def create(self, ctx: context.RequestContext, repo_uuid: str, type: str,
               branches: Optional[str] = None,
               config: Optional[dict[str, Any]] = None) -> views.View:
        if branches is not None:
            validation.branch_glob(branches)
        config = validate_config(type, config)
        if type == 'local':
            config = deploy_config.seal(self.conf, config)
        if type == 'solum':
            try:
                addresses.check_solum_url(config.get('solum_url'), self.conf)
            except addresses.Refused as e:
                raise exception.InvalidInput('config.solum_url', str(e))
        if type == 'webhook':
            # after the access check (no DNS lookups for strangers), outside
            # the write transaction (a slow resolver must not hold it)
            with audit.denials(self.db, ctx), self.db.reader() as session:
                repo = self.repos.find(session, ctx, repo_uuid)
                self.repos.authorize_owner(session, ctx, repo, 'trigger', 'create')
            try:
                addresses.check_url(config['url'],
                                    self.conf.pipelines.webhook_allow_private)
            except addresses.Refused as e:
                raise exception.InvalidInput('config.url', str(e))
        trigger_uuid = str(uuidlib.uuid4())
        private = {}
        if type == 'solum':
            private = self.solum.make(ctx, repo_uuid, trigger_uuid, config)
        try:
            with audit.denials(self.db, ctx), self.db.writer() as session:
                # locked first (services/quotas.py): two creates on one repo count
                # one after the other
                session.execute(sa.select(models.Repo.id).where(
                    models.Repo.uuid == repo_uuid).with_for_update())
                repo = self.repos.find(session, ctx, repo_uuid)
                self.repos.authorize_owner(session, ctx, repo, 'trigger', 'create')
                quotas.enforce(self.conf, session, repo.project_id, 'triggers_per_repo',
                               repo.name, session.execute(
                                   sa.select(sa.func.count(models.Trigger.id)).where(
                                       models.Trigger.repo_id == repo.id)).scalar())
                row = models.Trigger(uuid=trigger_uuid, repo_id=repo.id, type=type,
                                     branches=branches or repo.default_branch,
                                     config=config, user_id=ctx.user_id, **private)
                session.add(row)
                session.flush()
                audit.by(session, ctx, events.TRIGGER_CREATE, 'repo', repo.uuid,
                         project_id=repo.project_id, trigger_uuid=row.uuid, type=type,
                         branches=row.branches)
                view = views.trigger(row, repo.uuid)
        except Exception:
            if private:
                self.solum.abandon(private)
            raise
        return view

    def update(self, ctx: context.RequestContext, repo_uuid: str, uuid: str,
               config: Any) -> views.View:
        """Change a local trigger's config (deploy_config.merged); the serving
        release is redeployed with it, untested, as a new run."""
        with self.db.writer() as session:
            repo = self.repos.find(session, ctx, repo_uuid)
            self.repos.authorize_owner(session, ctx, repo, 'trigger', 'update')
            row = self._find(session, repo, uuid)
            if row.type != 'local':
                raise exception.InvalidInput('config', 'only a local trigger\'s config '
                                             'changes; delete and add a %s trigger'
                                             % row.type)
            config, kept = deploy_config.merged(dict(row.config or {}), config)
            config = validate_config(row.type, config)
            row.config = deploy_config.reseal(self.conf, config, kept)
            row.config_version = (row.config_version or 1) + 1
            serving = releases.serving_release(session, row.id)
            if serving is not None and row.config.get('run_cmd'):
                releases.queue_redeploy(
                    session, ctx, repo, row, serving, 'config version %d: redeploying '
                    'release %d (run %s)' % (row.config_version, serving.release,
                                             serving.uuid))
            session.flush()
            view = views.trigger(row, repo.uuid)
            stack_id = repo.stack_id
        self.engine.notify(stack_id)
        return view

    def delete(self, ctx: context.RequestContext, repo_uuid: str, uuid: str) -> None:
        with audit.denials(self.db, ctx), self.db.writer() as session:
            repo = self.repos.find(session, ctx, repo_uuid)
            self.repos.authorize_owner(session, ctx, repo, 'trigger', 'delete')
            row = self._find(session, repo, uuid)
            audit.by(session, ctx, events.TRIGGER_DELETE, 'repo', repo.uuid,
                     project_id=repo.project_id, trigger_uuid=row.uuid, type=row.type)
            self.solum.revoke_tokens(session, row)
            trust_id, stack_id = row.trust_id, repo.stack_id
            session.delete(row)
        self.engine.notify(stack_id)
        self.solum.forget_trust(trust_id, uuid)
