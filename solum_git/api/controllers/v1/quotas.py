"""/v1/infrastructure/quotas/{project_id}: a project's limits (admins set them)."""
from pecan import rest
from wsmeext import pecan as wsme_pecan

from solum_git.api.controllers.v1 import base
from solum_git.api import types


def render(view):
    return types.Quota.from_view(view, uri=base.url('v1/infrastructure/quotas',
                                                    view['project_id']))


class QuotasController(rest.RestController):
    @wsme_pecan.wsexpose(types.Quota, types.text)
    def get_one(self, project_id):
        return render(base.services().quotas.get(base.ctx(), project_id))

    @wsme_pecan.wsexpose(types.Quota, types.text, body=types.QuotaInput)
    def put(self, project_id, body):
        fields = base.require_body(body).given()
        return render(base.services().quotas.set(base.ctx(), project_id, fields))
