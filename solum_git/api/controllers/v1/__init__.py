import pecan
from pecan import rest

from solum_git.api.controllers.v1 import base
from solum_git.api.controllers.v1 import hooks
from solum_git.api.controllers.v1 import infrastructure
from solum_git.api.controllers.v1 import openapi


class V1Controller(rest.RestController):
    infrastructure = infrastructure.InfrastructureController()
    hooks = hooks.HooksController()

    @pecan.expose('json')
    def get(self):
        return {'uri': base.url('v1'), 'name': 'solum-git', 'type': 'platform',
                'description': 'solum-git API v1: hosted git for Solum',
                'infrastructure_uri': base.url('v1/infrastructure')}


pecan.route(V1Controller, 'openapi.json', openapi.OpenApiController())
