import pecan
from pecan import rest
from wsmeext import pecan as wsme_pecan

from solum_git.api.controllers.v1 import base
from solum_git.api import types
from solum_git.common import exception


def render(view):
    return types.Trigger.from_view(view, uri=base.url(
        'v1/infrastructure/repos', view['repo_uuid'], 'triggers', view['uuid']))


class TriggersController(rest.RestController):
    @wsme_pecan.wsexpose([types.Trigger], types.text)
    def get_all(self, repo_uuid):
        return [render(v) for v in base.services().triggers.list(base.ctx(), repo_uuid)]

    @wsme_pecan.wsexpose(types.Trigger, types.text, types.text)
    def get_one(self, repo_uuid, uuid):
        return render(base.services().triggers.get(base.ctx(), repo_uuid, uuid))

    @wsme_pecan.wsexpose(types.Trigger, types.text, body=types.TriggerInput,
                         status_code=201)
    def post(self, repo_uuid, body):
        fields = base.require_body(body).given()
        if 'type' not in fields:
            raise exception.InvalidInput('type', 'is required')
        view = base.services().triggers.create(base.ctx(), repo_uuid, **fields)
        pecan.response.location = render(view).uri
        return render(view)

    @wsme_pecan.wsexpose(types.Trigger, types.text, types.text, body=types.TriggerInput)
    def put(self, repo_uuid, uuid, body):
        fields = base.require_body(body).given()
        for name in ('type', 'branches'):
            if name in fields:
                raise exception.InvalidInput(name, 'cannot change: delete the trigger and '
                                             'add another')
        if 'config' not in fields:
            raise exception.InvalidInput('config', 'is required')
        view = base.services().triggers.update(base.ctx(), repo_uuid, uuid,
                                               fields['config'])
        return render(view)

    @wsme_pecan.wsexpose(None, types.text, types.text, status_code=204)
    def delete(self, repo_uuid, uuid):
        base.services().triggers.delete(base.ctx(), repo_uuid, uuid)
