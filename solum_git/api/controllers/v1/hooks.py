"""/v1/hooks/*: the git servers' signed requests (no user auth).

POST post-receive: a push event. POST run-log: a run's log for the hook to show.
The body is passed on byte for byte: the signature covers exactly those bytes.
"""
import pecan
from pecan import rest

from solum_git.api.controllers.v1 import base
from solum_git.api.controllers.v1 import runs
from solum_git.common import exception


def _fault(e):
    pecan.response.status = e.code
    return {'faultcode': 'Client' if e.code < 500 else 'Server',
            'faultstring': e.message, 'debuginfo': None}


class PostReceiveController(rest.RestController):
    @pecan.expose('json')
    def post(self):
        try:
            result = base.services().pushes.receive(pecan.request.headers,
                                                    pecan.request.body)
        except exception.SolumGitError as e:
            return _fault(e)
        push = result['push']
        pecan.response.status = 200 if result['duplicate'] else 201
        messages = []
        if not result['runs']:
            messages.append('no trigger of this repo matches the pushed branches')
        stream = pecan.request.conf.hook.stream_seconds
        return {
            'duplicate': result['duplicate'], 'messages': messages,
            'stream_seconds': stream if any(r['type'] == 'local'
                                            for r in result['runs']) else 0,
            'push': {'uuid': push['uuid'], 'push_id': push['push_id'],
                     'uri': runs.push_uri(push['repo_uuid'], push['uuid'])},
            'runs': [{'uuid': r['uuid'], 'type': r['type'], 'ref': r['ref'],
                      'status': r['status'], 'uri': runs.uri(r['uuid']),
                      'log_uri': runs.uri(r['uuid']) + '/log'} for r in result['runs']],
        }


class RunLogController(rest.RestController):
    @pecan.expose('json')
    def post(self):
        try:
            return base.services().runs.hook_log(pecan.request.headers,
                                                 pecan.request.body)
        except exception.SolumGitError as e:
            return _fault(e)


class HooksController(rest.RestController):
    pass


pecan.route(HooksController, 'post-receive', PostReceiveController())
pecan.route(HooksController, 'run-log', RunLogController())
