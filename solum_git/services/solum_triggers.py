"""What solum-git makes for a solum trigger, and undoes when the trigger goes.

- A read-only deploy token of the trigger's repo (``deploy_tokens.issue``:
  solum-git's own, no policy of its own): the repo's ``http_url`` with the
  token as user info, pinned to each pushed commit, is what the pipeline
  hands Solum (Solum 15's cloner has no SSH key and its ``check_url`` takes
  only ``http(s)://`` or ``git@`` URLs). Its secret is kept with the trigger
  (the token table keeps only its hash); engine/solum_tokens.py rotates it.
- With Keystone on both sides (``[api]`` and ``[solum] auth_strategy =
  keystone``), a Keystone trust from the trigger's creator to solum-git's
  service user, with the creator's roles on its project.

- With ``config.create_app``, the Solum app itself (``POST /v1/apps``).

All are the trigger's alone: never in its view, never set by a user.
"""
import logging
import re
from typing import Any, Optional

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session
from oslo_config import cfg
from sqlalchemy import orm

from solum_git.common import exception
from solum_git.common import tokens
from solum_git.common import trusts
from solum_git.common import urls
from solum_git.db import api as db_api
from solum_git.services import audit
from solum_git.services import base
from solum_git.services import context
from solum_git.services import deploy_tokens
from solum_git.services import repos

LOG = logging.getLogger(__name__)


class SolumTriggers:
    def __init__(self, conf: cfg.ConfigOpts, db: db_api.Database, engine: base.Notifier,
                 repo_service: repos.RepoService):
        self.conf = conf
        self.db = db
        self.engine = engine
        self.repos = repo_service

    def delegates(self) -> bool:
        return (self.conf.api.auth_strategy == 'keystone'
                and self.conf.solum.auth_strategy == 'keystone')

    def make(self, ctx: context.RequestContext, repo_uuid: str, trigger_uuid: str,
             config: dict[str, Any]) -> dict[str, Any]:
        """The private columns of a new solum trigger (``config`` gets the app_id of
        an app it makes); nothing is left behind on failure."""
        # the owner check first: nothing is made for a caller who may not
        with audit.denials(self.db, ctx), self.db.reader() as session:
            repo = self.repos.find(session, ctx, repo_uuid)
            self.repos.authorize_owner(session, ctx, repo, 'trigger', 'create')
        private: dict[str, Any] = {'trust_id': None}
        if self.delegates():
            try:
                private['trust_id'] = trusts.create(self.conf, ctx)
            except trusts.TrustError as e:
                raise exception.ServiceUnavailable(str(e))
        try:
            with self.db.writer() as session:
                repo = self.repos.find(session, ctx, repo_uuid)
                self.repos.authorize_owner(session, ctx, repo, 'trigger', 'create')
                token = deploy_tokens.issue(self.conf, session, repo, 'solum-trigger-%s'
                                            % trigger_uuid[:8], 'R', user_id=ctx.user_id)
                repo_name = repo.name
                url = urls.http_url(self.conf, repo.stack, repo.name)
                stack_id = repo.stack_id
            private.update(deploy_token_id=token['uuid'], deploy_secret=token['token'])
            self.engine.notify(stack_id)
            if config.get('create_app'):
                config['app_id'] = self.create_app(ctx, repo_name, url, config, private)
        except Exception:
            self.abandon(private)
            raise
        return private

    def create_app(self, ctx: context.RequestContext, repo_name: str, url: Optional[str],
                   config: dict[str, Any], private: dict[str, Any]) -> str:
        """``config.create_app``: the Solum app of this repo (at ``url``), made now; its id."""
        if url is None:
            raise exception.Conflict("config.create_app: the repo's git server has no "
                                     'HTTP address yet; try again in a moment')
        solum_url = (config.get('solum_url') or self.conf.solum.url).rstrip('/')
        body = {'name': _app_name(repo_name), 'languagepack': config['languagepack'],
                'source': {'repository': urls.clone_url(url, tokens.deploy_username(
                    private['deploy_token_id']), private['deploy_secret'])},
                # Solum's workflows read both keys (KeyError without them)
                'workflow_config': {k: config.get(k, '') for k in ('test_cmd', 'run_cmd')}}
        if self.conf.solum.auth_strategy == 'noauth':
            sess, headers = ks_session.Session(timeout=self.conf.solum.timeout or 15), {
                'X-User-Id': ctx.user_id, 'X-Project-Id': ctx.project_id,
                'X-Roles': ','.join(ctx.roles) or 'member'}
        else:
            sess, headers = trusts.session(self.conf, private.get('trust_id')), {}
        try:
            resp = sess.post(solum_url + '/v1/apps', json=body, headers=headers,
                             raise_exc=False)
        except (ks_exc.ClientException, trusts.TrustError) as e:
            raise exception.ServiceUnavailable('config.create_app: Solum not reachable: '
                                               '%s' % type(e).__name__)
        if resp.status_code != 201:
            text = resp.text.replace(private['deploy_secret'], '***')[:300]
            if resp.status_code >= 500:
                raise exception.ServiceUnavailable('config.create_app: Solum answered '
                                                   'HTTP %d' % resp.status_code)
            raise exception.InvalidInput('config.create_app', 'Solum refused the app '
                                         '(HTTP %d): %s' % (resp.status_code, text))
        return resp.json()['id']

    def abandon(self, private: dict[str, Any]) -> None:
        """Undo what ``make`` made for a trigger that was never stored."""
        if private.get('deploy_token_id'):
            with self.db.writer() as session:
                deploy_tokens.revoke(session, private['deploy_token_id'])
        self.forget_trust(private.get('trust_id'))

    def revoke_tokens(self, session: orm.Session, row: Any) -> None:
        """In the transaction deleting ``row``: its tokens go with it."""
        for token_id in (row.deploy_token_id, row.previous_token_id):
            if token_id:
                deploy_tokens.revoke(session, token_id)

    def forget_trust(self, trust_id: Optional[str],
                     trigger_uuid: Optional[str] = None) -> None:
        """Delete the trust (after the trigger is gone); a failure is logged."""
        if not trust_id:
            return
        try:
            trusts.delete(self.conf, trust_id)
        except trusts.TrustError:
            LOG.exception('solum trigger %s: Keystone trust %s was not deleted',
                          trigger_uuid, trust_id)


def _app_name(repo_name):
    """Solum's app name rule (``^[a-z][a-z0-9-_]{0,99}$``) from a repo name."""
    name = re.sub(r'[^a-z0-9_-]', '-', repo_name.lower())
    return name if name[:1].isalpha() else 'git-' + name[:96]
