import pecan

from solum_git.api.controllers import v1


class RootController:
    v1 = v1.V1Controller()

    @pecan.expose('json')
    def index(self):
        return {'versions': [{'id': 'v1', 'status': 'CURRENT',
                              'links': [{'rel': 'self',
                                         'href': pecan.request.application_url
                                         + '/v1'}]}]}
