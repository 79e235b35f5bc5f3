"""The solum pipeline: a workflow on the Solum app the trigger names.

``POST {solum}/v1/apps/{app_id}/workflows {"actions": [...]}`` (default
unittest, build, deploy). In production the request carries a Keystone token
from the ``[solum]`` auth options (a service user with a trust); with
``[solum] auth_strategy = noauth`` it carries the trigger owner's identity
headers, for a Solum running without Keystone.
"""
import datetime
import time

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import loading as ks_loading
from keystoneauth1 import session as ks_session

from solum_git.pipelines import base

DEFAULT_ACTIONS = ['unittest', 'build', 'deploy']
GROUP = 'solum'


class SolumPipeline(base.Pipeline):
    name = 'solum'

    def __init__(self, conf):
        super().__init__(conf)
        self._session = None

    def session(self):
        if self._session is None:
            opts = self.conf.solum
            if opts.auth_strategy == 'noauth':
                self._session = ks_session.Session(timeout=opts.timeout or 15)
            else:
                auth = ks_loading.load_auth_from_conf_options(self.conf, GROUP)
                self._session = ks_loading.load_session_from_conf_options(
                    self.conf, GROUP, auth=auth)
                if not self._session.timeout:
                    self._session.timeout = 15
        return self._session

    def headers(self, spec):
        if self.conf.solum.auth_strategy != 'noauth':
            return {}
        return {'X-User-Id': spec.trigger['user_id'],
                'X-Project-Id': spec.repo['project_id'], 'X-Roles': 'member'}

    def execute(self, spec):
        solum_url = (spec.config.get('solum_url') or self.conf.solum.url).rstrip('/')
        app_id = spec.config['app_id']
        actions = spec.config.get('actions') or DEFAULT_ACTIONS
        url = '%s/v1/apps/%s/workflows' % (solum_url, app_id)
        delivery = {'attempt': spec.attempt, 'url': url, 'status_code': None,
                    'error': None,
                    'at': datetime.datetime.now(datetime.timezone.utc).isoformat()}
        spec.log.note('POST %s %s' % (url, actions))
        start = time.monotonic()
        try:
            resp = self.session().post(url, json={'actions': actions},
                                       headers=self.headers(spec), raise_exc=False,
                                       authenticated=self.conf.solum.auth_strategy
                                       != 'noauth')
        except ks_exc.ClientException as e:
            delivery['error'] = str(e)[:500]
            spec.log.note('failed: %s' % delivery['error'])
            return base.Result(base.RETRY, 'Solum not reachable: %s' % type(e).__name__,
                               delivery=delivery)
        delivery['duration_ms'] = int((time.monotonic() - start) * 1000)
        delivery['status_code'] = resp.status_code
        delivery['response'] = resp.text[:500]
        spec.log.note('HTTP %d: %s' % (resp.status_code, resp.text[:2000]))
        if resp.status_code in (200, 201, 202):
            try:
                workflow = resp.json()
            except ValueError:
                workflow = {}
            wf = workflow.get('wf_id') or workflow.get('id')
            delivery['workflow'] = workflow.get('id') or wf
            return base.Result(base.SUCCESS, 'Solum workflow %s (%s) created on app %s'
                               % (wf, ', '.join(actions), app_id),
                               app_url='%s/v1/apps/%s' % (solum_url, app_id),
                               delivery=delivery)
        if resp.status_code in (408, 429) or resp.status_code >= 500:
            return base.Result(base.RETRY, 'Solum answered HTTP %d' % resp.status_code,
                               delivery=delivery)
        return base.Result(base.FAILED, 'Solum refused the workflow (HTTP %d): %s'
                           % (resp.status_code, resp.text[:300]), delivery=delivery)
