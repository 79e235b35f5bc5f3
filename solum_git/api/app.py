"""The WSGI application: Pecan + WSME behind auth and the request limits."""
import pecan

from solum_git.api import hooks
from solum_git.api import middleware

HOOK_PREFIXES = ('/v1/hooks/',)


def setup_app(conf, services, hook_app=None):
    """The whole WSGI stack; ``services`` come from the composition root."""
    app = pecan.make_app(
        'solum_git.api.controllers.root.RootController',
        hooks=[hooks.ServicesHook(services, conf), hooks.ContextHook()],
        force_canonical=False, guess_content_type_from_ext=False,
        wsme={'debug': False})
    if conf.api.auth_strategy == 'keystone':
        from keystonemiddleware import auth_token
        authed = auth_token.AuthProtocol(app, {'oslo_config_config': conf})
    else:
        authed = middleware.NoAuth(app)
    # the post-receive callback is signed by the stack, not by a user
    app = middleware.PathDispatch(authed, hook_app or app, HOOK_PREFIXES)
    app = middleware.JsonErrors(middleware.JsonOnly(app))
    return middleware.BodySizeLimit(app, conf.api.max_request_body_size)
