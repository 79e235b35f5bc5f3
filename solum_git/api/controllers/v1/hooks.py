"""POST /v1/hooks/post-receive: the git servers' signed push events (no user auth).

The body is passed on byte for byte: the signature covers exactly those bytes.
"""
import pecan
from pecan import rest

from solum_git.api.controllers.v1 import base
from solum_git.api.controllers.v1 import runs
from solum_git.common import exception


class PostReceiveController(rest.RestController):
    @pecan.expose('json')
    def post(self):
        try:
            result = base.services().pushes.receive(pecan.request.headers,
                                                    pecan.request.body)
        except exception.SolumGitError as e:
            pecan.response.status = e.code
            return {'faultcode': 'Client' if e.code < 500 else 'Server',
                    'faultstring': e.message, 'debuginfo': None}
        push = result['push']
        pecan.response.status = 200 if result['duplicate'] else 201
        messages = []
        if not result['runs']:
            messages.append('no trigger of this repo matches the pushed branches')
        return {
            'duplicate': result['duplicate'], 'messages': messages,
            'push': {'uuid': push['uuid'], 'push_id': push['push_id'],
                     'uri': runs.push_uri(push['repo_uuid'], push['uuid'])},
            'runs': [{'uuid': r['uuid'], 'type': r['type'], 'ref': r['ref'],
                      'status': r['status'], 'uri': runs.uri(r['uuid']),
                      'log_uri': runs.uri(r['uuid']) + '/log'} for r in result['runs']],
        }


class HooksController(rest.RestController):
    pass


pecan.route(HooksController, 'post-receive', PostReceiveController())
