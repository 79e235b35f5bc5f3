from pecan import rest
from wsmeext import pecan as wsme_pecan

from solum_git.api.controllers.v1 import base
from solum_git.api import types
from solum_git.common import exception


def render(view):
    return types.Member.from_view(view, uri=base.url(
        'v1/infrastructure/repos', view['repo_uuid'], 'members', view['user_id']))


class MembersController(rest.RestController):
    @wsme_pecan.wsexpose([types.Member], types.text)
    def get_all(self, repo_uuid):
        return [render(v) for v in base.services().members.list(base.ctx(), repo_uuid)]

    @wsme_pecan.wsexpose(types.Member, types.text, types.text)
    def get_one(self, repo_uuid, user_id):
        for view in base.services().members.list(base.ctx(), repo_uuid):
            if view['user_id'] == user_id:
                return render(view)
        raise exception.NotFound('member', user_id)

    @wsme_pecan.wsexpose(types.Member, types.text, types.text, body=types.MemberInput)
    def put(self, repo_uuid, user_id, body):
        fields = base.require_body(body).given()
        return render(base.services().members.set(
            base.ctx(), repo_uuid, user_id, fields.get('permission')))

    @wsme_pecan.wsexpose(None, types.text, types.text, status_code=204)
    def delete(self, repo_uuid, user_id):
        base.services().members.remove(base.ctx(), repo_uuid, user_id)
