import pecan
from pecan import rest

from solum_git.api.controllers import v1


class RootController(rest.RestController):
    v1 = v1.V1Controller()

    # a RestController: GET only (a plain controller's index answers every method)
    @pecan.expose('json')
    def get(self):
        return {'versions': [{'id': 'v1', 'status': 'CURRENT',
                              'links': [{'rel': 'self',
                                         'href': pecan.request.application_url
                                         + '/v1'}]}]}
