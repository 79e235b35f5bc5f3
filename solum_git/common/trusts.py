"""Keystone trusts of solum triggers: from the trigger's owner to solum-git's service user.

The service user is the one of the ``[solum]`` auth options. A trigger made
with a user's Keystone token gets a trust from that user (its roles on its
project, impersonation: Solum sees the user) to the service user; the solum
pipeline asks for a token scoped to that trust for each workflow, and the
trust goes with the trigger. Without a trust (an API without Keystone, a
trigger older than this) the ``[solum]`` credentials themselves are used: the
documented fallback (docs/pipelines.rst).
"""
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1.identity import v3
from keystoneauth1 import loading as ks_loading
from keystoneauth1 import session as ks_session

GROUP = 'solum'
IDENTITY = {'service_type': 'identity', 'interface': 'public', 'version': (3, 0)}
# scope options of the service user's own login, dropped for a trust-scoped one
_SCOPE = ('project_id', 'project_name', 'project_domain_id', 'project_domain_name',
          'domain_id', 'domain_name', 'system_scope', 'trust_id')


class TrustError(Exception):
    """Keystone refused or could not be reached; the message says which."""


def _timeout(conf):
    return conf.solum.timeout or 15


def service_auth(conf, trust_id=None):
    """The ``[solum]`` auth plugin; scoped to ``trust_id`` when one is given."""
    if trust_id is None:
        return ks_loading.load_auth_from_conf_options(conf, GROUP)
    overrides = {name: None for name in _SCOPE}
    overrides['trust_id'] = trust_id
    return ks_loading.load_auth_from_conf_options(conf, GROUP, **overrides)


def session(conf, trust_id=None):
    """A keystoneauth1 session with the ``[solum]`` TLS and timeout settings."""
    sess = ks_loading.load_session_from_conf_options(
        conf, GROUP, auth=service_auth(conf, trust_id))
    if not sess.timeout:
        sess.timeout = _timeout(conf)
    return sess


def create(conf, ctx):
    """A trust from the caller (its token, roles and project) to the service user; its id."""
    if not ctx.auth_token:
        raise TrustError('the request carried no Keystone token to delegate')
    try:
        service = session(conf)
        trustee = service.get_user_id()
        auth_url = service.auth.auth_url
        caller = ks_session.Session(
            auth=v3.Token(auth_url=auth_url, token=ctx.auth_token,
                          project_id=ctx.project_id),
            timeout=_timeout(conf), verify=service.verify, cert=service.cert)
        resp = caller.post('/OS-TRUST/trusts', endpoint_filter=IDENTITY, json={'trust': {
            'trustor_user_id': ctx.user_id, 'trustee_user_id': trustee,
            'project_id': ctx.project_id, 'impersonation': True,
            'roles': [{'name': role} for role in ctx.roles]}})
    except ks_exc.ClientException as e:
        raise TrustError('Keystone refused a trust to solum-git: %s' % _why(e))
    return resp.json()['trust']['id']


def delete(conf, trust_id):
    """Delete the trust with a token of its own (impersonating its trustor, as
    Keystone's policy asks); gone already is done."""
    try:
        session(conf, trust_id).delete('/OS-TRUST/trusts/%s' % trust_id,
                                       endpoint_filter=IDENTITY)
    except (ks_exc.NotFound, ks_exc.Unauthorized):
        # 401: Keystone cannot scope to a trust that no longer exists
        return
    except ks_exc.ClientException as e:
        raise TrustError('Keystone did not delete trust %s: %s' % (trust_id, _why(e)))


def _why(e):
    return '%s %s' % (type(e).__name__, str(e)[:300])
