"""Pecan hooks: hand each request its caller and the services (built once, elsewhere)."""
from oslo_middleware import request_id
from pecan import hooks

from solum_git.services import context


class ContextHook(hooks.PecanHook):
    def __init__(self, keystone=False):
        # behind keystonemiddleware the caller's token is real: a solum trigger
        # delegates it (a Keystone trust); without it, a header is only a header
        self.keystone = keystone

    def before(self, state):
        headers = state.request.headers
        environ = state.request.environ
        roles = [r.strip() for r in headers.get('X-Roles', '').split(',') if r.strip()]
        # oslo.middleware's ids: ours generated; the caller's X-Openstack-Request-Id
        # only as the global id, and only if it looks like one (req-<uuid>).
        # The context becomes oslo.log's current one: log lines carry both.
        state.request.context = context.RequestContext(
            user_id=headers.get('X-User-Id'), project_id=headers.get('X-Project-Id'),
            roles=roles, auth_token=(headers.get('X-Auth-Token') if self.keystone
                                     else None),
            request_id=environ.get(request_id.ENV_REQUEST_ID),
            global_request_id=environ.get(request_id.GLOBAL_REQ_ID))


class ServicesHook(hooks.PecanHook):
    def __init__(self, services, conf):
        self.services = services
        self.conf = conf

    def on_route(self, state):
        state.request.services = self.services
        state.request.conf = self.conf
