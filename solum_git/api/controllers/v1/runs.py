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
            return _fault(e)
        response = pecan.response
        response.text = found['log']
        response.content_type = 'text/plain'
        # lets a client tail the log until the run has ended (empty log: 204)
        response.headers['X-Run-Status'] = found['status']
        return response


def _fault(e):
    pecan.response.status = e.code
    return json.dumps({'faultcode': 'Client' if e.code < 500 else 'Server',
                       'faultstring': e.message, 'debuginfo': None})


def _lines(value):
    if value is None:
        return None
    if not value.isdigit():
        raise exception.InvalidInput('tail', 'must be a number of lines from 0 to 10000')
    return int(value)


def _flag(value, name):
    if value in (None, '', '0', 'false'):
        return False
    if value in ('1', 'true'):
        return True
    raise exception.InvalidInput(name, 'must be 1 or 0')


class AppLogController(rest.RestController):
    """The output of the run's app (local runs that deployed), text/plain."""
    # what get_all reads from the query string (it answers text: no WSME)
    QUERY = {'tail': int, 'follow': types.text}

    @pecan.expose(content_type='application/json')
    def get_all(self, run_uuid):
        params = pecan.request.GET
        try:
            found = base.services().runs.app_log(
                base.ctx(), run_uuid, _lines(params.get('tail')),
                _flag(params.get('follow'), 'follow'))
        except exception.SolumGitError as e:
            return _fault(e)
        response = pecan.response
        response.content_type = 'text/plain'
        response.charset = 'utf-8'
        response.headers['X-Run-Status'] = found['status']
        response.app_iter = found['chunks']
        return response


class RunActionsController(rest.RestController):
    @wsme_pecan.wsexpose(types.Run, types.text, body=types.Action, status_code=202)
    def post(self, run_uuid, body):
        action = base.require_body(body).action
        if action == 'redeliver':
            return render(base.services().runs.redeliver(base.ctx(), run_uuid))
        if action == 'rollback':
            return render(base.services().releases.rollback(base.ctx(), run_uuid))
        raise exception.InvalidInput('action', 'must be one of: redeliver, rollback')


class RunsController(rest.RestController):
    log = RunLogController()
    actions = RunActionsController()

    @wsme_pecan.wsexpose(types.Run, types.text)
    def get_one(self, uuid):
        return render(base.services().runs.get(base.ctx(), uuid))


# a path segment with a dash, which no attribute name can be
pecan.route(RunsController, 'app-log', AppLogController())


class ReleasesController(rest.RestController):
    @wsme_pecan.wsexpose([types.Release], types.text)
    def get_all(self, repo_uuid):
        return [types.Release.from_view(v, run_uri=uri(v['run_uuid']))
                for v in base.services().releases.list(base.ctx(), repo_uuid)]
