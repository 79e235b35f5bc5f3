import pecan
from pecan import rest
from wsmeext import pecan as wsme_pecan

from solum_git.api.controllers.v1 import base
from solum_git.api import types
from solum_git.common import exception

PATH = 'v1/infrastructure/keys'


def render(view):
    return types.Key.from_view(view, uri=base.url(PATH, view['uuid']))


class KeysController(rest.RestController):
    @wsme_pecan.wsexpose([types.Key], int, types.text, types.text, types.text)
    def get_all(self, limit=None, marker=None, sort_key=None, sort_dir=None):
        views = base.services().keys.list(base.ctx(), limit, marker, sort_key, sort_dir)
        base.set_next_link(views, limit, PATH)
        return [render(v) for v in views]

    @wsme_pecan.wsexpose(types.Key, types.text)
    def get_one(self, uuid):
        return render(base.services().keys.get(base.ctx(), uuid))

    @wsme_pecan.wsexpose(types.Key, body=types.KeyInput, status_code=201)
    def post(self, body):
        fields = base.require_body(body).given()
        if 'public_key' not in fields:
            raise exception.InvalidInput('public_key', 'is required')
        view = base.services().keys.create(base.ctx(), **fields)
        pecan.response.location = base.url(PATH, view['uuid'])
        return render(view)

    @wsme_pecan.wsexpose(None, types.text, status_code=204)
    def delete(self, uuid):
        base.services().keys.delete(base.ctx(), uuid)
