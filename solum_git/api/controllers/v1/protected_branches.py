"""/v1/infrastructure/repos/{uuid}/protected_branches[/{pattern}].

``pattern`` is URL-encoded by the client; one with "/" (``release/*``) may
reach Pecan decoded, as several segments: base.LastArgumentSpansSlashes.
"""
from wsmeext import pecan as wsme_pecan

from solum_git.api.controllers.v1 import base
from solum_git.api import types

PATH = 'v1/infrastructure/repos'


def render(view):
    return types.ProtectedBranch.from_view(view, uri=base.url(
        PATH, view['repo_uuid'], 'protected_branches', view['pattern']))


class ProtectedBranchesController(base.LastArgumentSpansSlashes):
    @wsme_pecan.wsexpose([types.ProtectedBranch], types.text)
    def get_all(self, repo_uuid):
        return [render(v) for v in
                base.services().protected_branches.list(base.ctx(), repo_uuid)]

    @wsme_pecan.wsexpose(types.ProtectedBranch, types.text, types.text)
    def get_one(self, repo_uuid, pattern):
        return render(base.services().protected_branches.get(base.ctx(), repo_uuid,
                                                             pattern))

    @wsme_pecan.wsexpose(types.ProtectedBranch, types.text, types.text,
                         body=types.ProtectedBranchInput)
    def put(self, repo_uuid, pattern, body=None):
        fields = body.given() if body is not None else {}
        return render(base.services().protected_branches.set(
            base.ctx(), repo_uuid, pattern, **fields))

    @wsme_pecan.wsexpose(None, types.text, types.text, status_code=204)
    def delete(self, repo_uuid, pattern):
        base.services().protected_branches.remove(base.ctx(), repo_uuid, pattern)
