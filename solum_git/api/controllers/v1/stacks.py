import pecan
from pecan import rest
from wsmeext import pecan as wsme_pecan

from solum_git.api.controllers.v1 import base
from solum_git.api import types
from solum_git.common import exception


def render(view):
    return types.Stack.from_view(
        view, type='infrastructure_stack',
        uri=base.url('v1/infrastructure/stacks', view['uuid']),
        repos_uri=base.url('v1/infrastructure/repos'))


class StackActionsController(rest.RestController):
    @wsme_pecan.wsexpose(None, types.text, body=types.Action, status_code=202)
    def post(self, stack_uuid, body):
        if base.require_body(body).action != 'resync':
            raise exception.InvalidInput('action', 'must be one of: resync')
        base.services().stacks.resync(base.ctx(), stack_uuid)


class StacksController(rest.RestController):
    actions = StackActionsController()

    @wsme_pecan.wsexpose([types.Stack], int, types.text, types.text, types.text)
    def get_all(self, limit=None, marker=None, sort_key=None, sort_dir=None):
        views = base.services().stacks.list(base.ctx(), limit, marker, sort_key,
                                            sort_dir)
        base.set_next_link(views, limit, 'v1/infrastructure/stacks')
        return [render(v) for v in views]

    @wsme_pecan.wsexpose(types.Stack, types.text)
    def get_one(self, uuid):
        return render(base.services().stacks.get(base.ctx(), uuid))

    @wsme_pecan.wsexpose(types.Stack, body=types.StackInput, status_code=201)
    def post(self, body=None):
        fields = body.given() if body is not None else {}
        view = base.services().stacks.create(base.ctx(), **fields)
        pecan.response.location = base.url('v1/infrastructure/stacks', view['uuid'])
        return render(view)

    @wsme_pecan.wsexpose(types.Stack, types.text, body=types.StackInput)
    def put(self, uuid, body):
        base.require_body(body)
        return render(base.services().stacks.update(base.ctx(), uuid, **body.given()))

    @wsme_pecan.wsexpose(None, types.text, status_code=204)
    def delete(self, uuid):
        base.services().stacks.delete(base.ctx(), uuid)
