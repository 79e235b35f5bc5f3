"""The solum pipeline: Solum 15 builds exactly the pushed commit of the trigger's repo.

Solum 15 copies an app's ``source`` into each workflow when the workflow is
made, and its worker clones ``git clone -b master --depth 1 {repository}``
(``POST /v1/apps/{id}/workflows`` hard-codes ``commit_sha=''``, so no
revision reaches the worker). So, for each push, two requests:

1. ``PATCH {solum}/v1/apps/{app_id}`` sets ``source.repository`` to the
   pinned URL of the pushed commit: the trigger's own read-only deploy token
   in its user info and ``/pin/<sha>/`` in its path, a view of the repo whose
   only branch ``master`` is that commit (git ref namespaces);
2. ``POST {solum}/v1/apps/{app_id}/workflows {"actions": [...]}`` (default
   unittest, build, deploy): the workflow keeps that URL, whatever later
   pushes set.

Runs of one trigger are serial (``serial_per_trigger``): a second push
cannot change the app's source between the first one's two requests.

With ``[solum] auth_strategy = keystone`` the requests carry a token scoped
to the trigger's Keystone trust (``common/trusts.py``), or, for a trigger
without one, a token of the ``[solum]`` credentials (the fallback); with
``noauth`` they carry the trigger owner's identity headers, for a Solum
running without Keystone.
"""
import datetime
import re
import time
from typing import Optional
import urllib.parse

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session
from oslo_config import cfg

from solum_git.common import addresses
from solum_git.common import states
from solum_git.common import trusts
from solum_git.common import urls
from solum_git.pipelines import base

RunStatus = states.RunStatus

DEFAULT_ACTIONS = ['unittest', 'build', 'deploy']
# Solum 15's own rule for source.repository (solum/api/handlers/common.py check_url)
SOLUM_REPOSITORY = re.compile(r'^(http://|https://|git@)(.+)(/|:/)(.+)(.+)(\.git)')


def redacted(url: str) -> str:
    """A URL fit for logs: the password of its user info replaced."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    netloc = '%s:***@%s' % (parts.username, parts.netloc.rpartition('@')[2])
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


class _Refused(Exception):
    def __init__(self, result):
        super().__init__(result.reason)
        self.result = result


class SolumPipeline(base.Pipeline):
    name = 'solum'
    serial_per_trigger = True
    # Solum fetches the code itself (over HTTP with the trigger's token)
    uses_source = False

    def __init__(self, conf: cfg.ConfigOpts):
        super().__init__(conf)
        self._fallback: Optional[ks_session.Session] = None

    def session(self, trust_id: Optional[str] = None) -> ks_session.Session:
        """The session of a request: the trigger's trust, else the fallback."""
        opts = self.conf.solum
        if opts.auth_strategy == 'noauth':
            return ks_session.Session(timeout=opts.timeout or 15)
        if trust_id:
            return trusts.session(self.conf, trust_id)
        if self._fallback is None:
            self._fallback = trusts.session(self.conf)
        return self._fallback

    def headers(self, spec: base.RunSpec) -> dict[str, str]:
        if self.conf.solum.auth_strategy != 'noauth':
            return {}
        return {'X-User-Id': spec.trigger['user_id'],
                'X-Project-Id': spec.repo['project_id'], 'X-Roles': 'member'}

    def execute(self, spec: base.RunSpec) -> base.Result:
        try:
            # checked at creation too; the setting may have changed since
            addresses.check_solum_url(spec.config.get('solum_url'), self.conf)
        except addresses.Refused as e:
            return base.Result(RunStatus.FAILED, 'config.solum_url: %s' % e)
        if not spec.trigger.get('source_url'):
            return base.Result(RunStatus.FAILED, 'no URL to hand Solum: the git server has '
                               'no HTTP address yet, or this trigger was made before '
                               'solum-git served git over HTTP (make it again)')
        repository = urls.pin_url(spec.trigger['source_url'], spec.commit)
        if not SOLUM_REPOSITORY.match(repository):
            return base.Result(RunStatus.FAILED, "Solum would refuse the repository URL %s "
                               "(its check_url)" % redacted(repository))
        solum_url = (spec.config.get('solum_url') or self.conf.solum.url).rstrip('/')
        app_id = spec.config['app_id']
        actions = spec.config.get('actions') or DEFAULT_ACTIONS
        app_url = '%s/v1/apps/%s' % (solum_url, app_id)
        url = app_url + '/workflows'
        delivery = {'attempt': spec.attempt, 'url': url, 'status_code': None,
                    'error': None, 'source': redacted(repository),
                    'at': datetime.datetime.now(datetime.timezone.utc).isoformat()}
        start = time.monotonic()
        try:
            sess = self.session(spec.trigger.get('trust_id'))
            spec.log.note('PATCH %s source.repository = %s'
                          % (app_url, redacted(repository)))
            self._request(sess, spec, 'PATCH', app_url, delivery, 'set the app source of',
                          json={'source': {'repository': repository}})
            spec.log.note('POST %s %s' % (url, actions))
            resp = self._request(sess, spec, 'POST', url, delivery,
                                 'create the workflow on', json={'actions': actions})
        except _Refused as e:
            return e.result
        finally:
            delivery['duration_ms'] = int((time.monotonic() - start) * 1000)
        try:
            workflow = resp.json()
        except ValueError:
            workflow = {}
        wf = workflow.get('wf_id') or workflow.get('id')
        delivery['workflow'] = workflow.get('id') or wf
        return base.Result(RunStatus.SUCCESS, 'Solum workflow %s (%s) created on app %s for '
                           'commit %s' % (wf, ', '.join(actions), app_id, spec.commit),
                           app_url=app_url, delivery=delivery)

    def _request(self, sess, spec, method, url, delivery, what, json):
        """One request to Solum; a refusal becomes the run's result (``_Refused``)."""
        try:
            resp = sess.request(url, method, json=json, headers=self.headers(spec),
                                raise_exc=False, authenticated=self.conf.solum.auth_strategy
                                != 'noauth')
        except (ks_exc.ClientException, trusts.TrustError) as e:
            delivery['error'] = str(e)[:500]
            spec.log.note('failed: %s' % delivery['error'])
            if isinstance(e, (ks_exc.Unauthorized, ks_exc.Forbidden)):
                # Keystone refused the trust (deleted, expired, roles gone)
                raise _Refused(base.Result(RunStatus.FAILED, 'Keystone refused the token of '
                                           'this trigger: %s' % type(e).__name__,
                                           delivery=delivery))
            raise _Refused(base.Result(RunStatus.RETRY, 'Solum not reachable: %s'
                                       % type(e).__name__, delivery=delivery))
        delivery['status_code'] = resp.status_code
        # Solum echoes the app's source: its URL holds the deploy token
        secret = urllib.parse.urlsplit(json.get('source', {}).get('repository', '')
                                       or spec.trigger['source_url']).password
        text = resp.text.replace(secret, '***') if secret else resp.text
        delivery['response'] = text[:500]
        spec.log.note('HTTP %d: %s' % (resp.status_code, text[:2000]))
        if resp.status_code in (200, 201, 202):
            return resp
        if resp.status_code in (408, 429) or resp.status_code >= 500:
            raise _Refused(base.Result(RunStatus.RETRY, 'Solum answered HTTP %d'
                                       % resp.status_code, delivery=delivery))
        raise _Refused(base.Result(RunStatus.FAILED, 'Solum refused to %s app %s (HTTP %d): %s'
                                   % (what, spec.config['app_id'], resp.status_code,
                                      text[:300]), delivery=delivery))
