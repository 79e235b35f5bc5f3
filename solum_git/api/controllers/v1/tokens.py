import pecan
from pecan import rest
from wsmeext import pecan as wsme_pecan

from solum_git.api.controllers.v1 import base
from solum_git.api import types

PATH = 'v1/infrastructure/tokens'


def render(view):
    return types.Token.from_view(view, uri=base.url(PATH, view['uuid']))


class TokensController(rest.RestController):
    @wsme_pecan.wsexpose([types.Token], int, types.text, types.text, types.text)
    def get_all(self, limit=None, marker=None, sort_key=None, sort_dir=None):
        views = base.services().tokens.list(base.ctx(), limit, marker, sort_key,
                                            sort_dir)
        base.set_next_link(views, limit, PATH)
        return [render(v) for v in views]

    @wsme_pecan.wsexpose(types.Token, body=types.TokenInput, status_code=201)
    def post(self, body):
        fields = base.require_body(body).given()
        view = base.services().tokens.create(base.ctx(), **fields)
        pecan.response.location = base.url(PATH, view['uuid'])
        return render(view)

    @wsme_pecan.wsexpose(None, types.text, status_code=204)
    def delete(self, uuid):
        base.services().tokens.delete(base.ctx(), uuid)
