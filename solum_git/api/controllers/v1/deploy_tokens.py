import pecan
from pecan import rest
from wsmeext import pecan as wsme_pecan

from solum_git.api.controllers.v1 import base
from solum_git.api import types


def render(view):
    return types.DeployToken.from_view(view, uri=base.url(
        'v1/infrastructure/repos', view['repo_uuid'], 'deploy_tokens', view['uuid']))


class DeployTokensController(rest.RestController):
    @wsme_pecan.wsexpose([types.DeployToken], types.text)
    def get_all(self, repo_uuid):
        return [render(v) for v in base.services().deploy_tokens.list(base.ctx(),
                                                                      repo_uuid)]

    @wsme_pecan.wsexpose(types.DeployToken, types.text, body=types.DeployTokenInput,
                         status_code=201)
    def post(self, repo_uuid, body):
        fields = base.require_body(body).given()
        view = base.services().deploy_tokens.create(base.ctx(), repo_uuid, **fields)
        out = render(view)
        pecan.response.location = out.uri
        return out

    @wsme_pecan.wsexpose(None, types.text, types.text, status_code=204)
    def delete(self, repo_uuid, uuid):
        base.services().deploy_tokens.delete(base.ctx(), repo_uuid, uuid)
