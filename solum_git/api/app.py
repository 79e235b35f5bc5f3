"""The WSGI application: Pecan + WSME behind auth and the request limits."""
from oslo_middleware import healthcheck
from oslo_middleware import http_proxy_to_wsgi
from oslo_middleware import request_id
from oslo_middleware import sizelimit
import pecan

from solum_git.api import hooks
from solum_git.api import middleware

HOOK_PREFIXES = ('/v1/hooks/',)
# oslo.middleware's health check, outside /v1 and before auth: a load balancer asks it
HEALTHCHECK_PATH = '/healthcheck'
# exact paths anyone may read: version discovery and the OpenAPI document
OPEN_PATHS = ('', '/', '/v1/openapi.json')


def setup_app(conf, services, hook_app=None):
    """The whole WSGI stack; ``services`` come from the composition root.

    Outermost first, in the order of OpenStack's API pipelines
    (http_proxy_to_wsgi, request_id, healthcheck, faultwrap, sizelimit,
    authtoken, app): a TLS proxy's X-Forwarded-* give the URLs of links and
    Location headers (if ``[oslo_middleware] enable_proxy_headers_parsing``);
    every answer, faults included, carries its request id; the body is
    bounded before anything reads it.
    """
    app = pecan.make_app(
        'solum_git.api.controllers.root.RootController',
        hooks=[hooks.ServicesHook(services, conf),
               hooks.ContextHook(keystone=conf.api.auth_strategy == 'keystone')],
        force_canonical=False, guess_content_type_from_ext=False,
        wsme={'debug': False})
    if conf.api.auth_strategy == 'keystone':
        from keystonemiddleware import auth_token
        authed = auth_token.AuthProtocol(app, {'oslo_config_config': conf})
    else:
        authed = middleware.NoAuth(app)
    # the post-receive callback is signed by the stack, not by a user
    app = middleware.PathDispatch(authed, hook_app or app, HOOK_PREFIXES, OPEN_PATHS)
    app = middleware.JsonOnly(app)
    app = sizelimit.RequestBodySizeLimiter(app, conf)
    app = middleware.ContentLength(app)
    limit = conf.oslo_middleware.max_request_body_size
    app = middleware.JsonErrors(app, {413: 'body: must be at most %d bytes' % limit})
    app = middleware.Route(app, HEALTHCHECK_PATH, healthcheck.Healthcheck(None, conf))
    app = request_id.RequestId(app, conf)
    return http_proxy_to_wsgi.HTTPProxyToWSGI(app, conf)
