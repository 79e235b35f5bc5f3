import pecan
from pecan import rest
from wsmeext import pecan as wsme_pecan

from solum_git.api.controllers.v1 import base
from solum_git.api import types
from solum_git.common import exception


def render(view):
    return types.DeployKey.from_view(view, uri=base.url(
        'v1/infrastructure/repos', view['repo_uuid'], 'deploy_keys', view['uuid']))


class DeployKeysController(rest.RestController):
    @wsme_pecan.wsexpose([types.DeployKey], types.text)
    def get_all(self, repo_uuid):
        return [render(v) for v in base.services().deploy_keys.list(base.ctx(),
                                                                    repo_uuid)]

    @wsme_pecan.wsexpose(types.DeployKey, types.text, body=types.DeployKeyInput,
                         status_code=201)
    def post(self, repo_uuid, body):
        fields = base.require_body(body).given()
        if 'public_key' not in fields:
            raise exception.InvalidInput('public_key', 'is required')
        view = base.services().deploy_keys.create(base.ctx(), repo_uuid, **fields)
        out = render(view)
        pecan.response.location = out.uri
        return out

    @wsme_pecan.wsexpose(None, types.text, types.text, status_code=204)
    def delete(self, repo_uuid, uuid):
        base.services().deploy_keys.delete(base.ctx(), repo_uuid, uuid)
