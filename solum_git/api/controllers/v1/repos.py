import pecan
from pecan import rest
from wsmeext import pecan as wsme_pecan

from solum_git.api.controllers.v1 import base
from solum_git.api.controllers.v1 import members
from solum_git.api.controllers.v1 import pushes
from solum_git.api.controllers.v1 import triggers
from solum_git.api import types
from solum_git.common import exception

PATH = 'v1/infrastructure/repos'


def render(view):
    uri = base.url(PATH, view['uuid'])
    return types.Repo.from_view(
        view, uri=uri,
        stack_uri=base.url('v1/infrastructure/stacks', view['stack_uuid']),
        members_uri=uri + '/members', triggers_uri=uri + '/triggers',
        pushes_uri=uri + '/pushes')


class ReposController(rest.RestController):
    members = members.MembersController()
    triggers = triggers.TriggersController()
    pushes = pushes.PushesController()

    @wsme_pecan.wsexpose([types.Repo], int, types.text, types.text, types.text,
                         types.text)
    def get_all(self, limit=None, marker=None, sort_key=None, sort_dir=None, name=None):
        views = base.services().repos.list(base.ctx(), limit, marker, sort_key,
                                           sort_dir, name=name)
        base.set_next_link(views, limit, PATH)
        return [render(v) for v in views]

    @wsme_pecan.wsexpose(types.Repo, types.text)
    def get_one(self, uuid):
        return render(base.services().repos.get(base.ctx(), uuid))

    @wsme_pecan.wsexpose(types.Repo, body=types.RepoInput, status_code=201)
    def post(self, body):
        fields = base.require_body(body).given()
        if 'name' not in fields:
            raise exception.InvalidInput('name', 'is required')
        view = base.services().repos.create(base.ctx(), **fields)
        pecan.response.location = base.url(PATH, view['uuid'])
        return render(view)

    @wsme_pecan.wsexpose(types.Repo, types.text, body=types.RepoInput)
    def put(self, uuid, body):
        fields = base.require_body(body).given()
        return render(base.services().repos.update(base.ctx(), uuid, **fields))

    @wsme_pecan.wsexpose(None, types.text, status_code=204)
    def delete(self, uuid):
        base.services().repos.delete(base.ctx(), uuid)
