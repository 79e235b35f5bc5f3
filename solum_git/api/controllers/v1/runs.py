import json

import pecan
from pecan import rest
from wsmeext import pecan as wsme_pecan

from solum_git.api.controllers.v1 import base
from solum_git.api import types
from solum_git.common import exception

PATH = 'v1/infrastructure/runs'


def uri(run_uuid):
    return base.url(PATH, run_uuid)


def push_uri(repo_uuid, push_uuid):
    return base.url('v1/infrastructure/repos', repo_uuid, 'pushes', push_uuid)


def render(view):
    return types.Run.from_view(view, uri=uri(view['uuid']),
                               log_uri=uri(view['uuid']) + '/log',
                               push_uri=push_uri(view['repo_uuid'], view['push_uuid']))


class RunLogController(rest.RestController):
    # the API answers JSON only (JsonOnly): offer that type, then send plain text
    @pecan.expose(content_type='application/json')
    def get_all(self, run_uuid):
        try:
            found = base.services().runs.log(base.ctx(), run_uuid)
        except exception.SolumGitError as e:
            pecan.response.status = e.code
            return json.dumps({'faultcode': 'Client', 'faultstring': e.message,
                               'debuginfo': None})
        response = pecan.response
        response.text = found['log']
        response.content_type = 'text/plain'
        # lets a client tail the log until the run has ended (empty log: 204)
        response.headers['X-Run-Status'] = found['status']
        return response


class RunActionsController(rest.RestController):
    @wsme_pecan.wsexpose(types.Run, types.text, body=types.Action, status_code=202)
    def post(self, run_uuid, body):
        if base.require_body(body).action != 'redeliver':
            raise exception.InvalidInput('action', 'must be one of: redeliver')
        return render(base.services().runs.redeliver(base.ctx(), run_uuid))


class RunsController(rest.RestController):
    log = RunLogController()
    actions = RunActionsController()

    @wsme_pecan.wsexpose(types.Run, types.text)
    def get_one(self, uuid):
        return render(base.services().runs.get(base.ctx(), uuid))
