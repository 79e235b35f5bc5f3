"""Pecan hooks: hand each request its caller and the services (built once, elsewhere)."""
from pecan import hooks

from solum_git.services import context


class ContextHook(hooks.PecanHook):
    def before(self, state):
        headers = state.request.headers
        roles = [r.strip() for r in headers.get('X-Roles', '').split(',') if r.strip()]
        state.request.context = context.RequestContext(
            user_id=headers.get('X-User-Id'), project_id=headers.get('X-Project-Id'),
            roles=roles, request_id=headers.get('X-Openstack-Request-Id'))


class ServicesHook(hooks.PecanHook):
    def __init__(self, services, conf):
        self.services = services
        self.conf = conf

    def on_route(self, state):
        state.request.services = self.services
        state.request.conf = self.conf
