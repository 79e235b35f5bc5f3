from pecan import rest
from wsmeext import pecan as wsme_pecan

from solum_git.api.controllers.v1 import base
from solum_git.api.controllers.v1 import runs
from solum_git.api import types


def render(view):
    return types.Push.from_view(
        view, uri=runs.push_uri(view['repo_uuid'], view['uuid']),
        repo_uri=base.url('v1/infrastructure/repos', view['repo_uuid']),
        refs=[types.PushRef.from_view(r) for r in view['refs']],
        runs=[runs.render(r) for r in view['runs']])


class PushesController(rest.RestController):
    @wsme_pecan.wsexpose([types.Push], types.text, int, types.text, types.text,
                         types.text)
    def get_all(self, repo_uuid, limit=None, marker=None, sort_key=None, sort_dir=None):
        views = base.services().pushes.list(base.ctx(), repo_uuid, limit, marker,
                                            sort_key, sort_dir)
        base.set_next_link(views, limit, 'v1/infrastructure/repos/%s/pushes' % repo_uuid)
        return [render(v) for v in views]

    @wsme_pecan.wsexpose(types.Push, types.text, types.text)
    def get_one(self, repo_uuid, uuid):
        return render(base.services().pushes.get(base.ctx(), repo_uuid, uuid))
