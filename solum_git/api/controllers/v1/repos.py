import pecan
from pecan import rest
from wsmeext import pecan as wsme_pecan

from solum_git.api.controllers.v1 import base
from solum_git.api.controllers.v1 import deploy_keys
from solum_git.api.controllers.v1 import deploy_tokens
from solum_git.api.controllers.v1 import members
from solum_git.api.controllers.v1 import protected_branches
from solum_git.api.controllers.v1 import pushes
from solum_git.api.controllers.v1 import runs
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
        pushes_uri=uri + '/pushes', deploy_tokens_uri=uri + '/deploy_tokens',
        deploy_keys_uri=uri + '/deploy_keys', backups_uri=uri + '/backups',
        protected_branches_uri=uri + '/protected_branches')


class BackupsController(rest.RestController):
    @wsme_pecan.wsexpose([types.Backup], types.text, int, types.text, types.text,
                         types.text)
    def get_all(self, repo_uuid, limit=None, marker=None, sort_key=None, sort_dir=None):
        views = base.services().backups.list(base.ctx(), repo_uuid, limit, marker,
                                             sort_key, sort_dir)
        base.set_next_link(views, limit, '%s/%s/backups' % (PATH, repo_uuid))
        return [types.Backup.from_view(v) for v in views]


class ReposController(rest.RestController):
    members = members.MembersController()
    triggers = triggers.TriggersController()
    pushes = pushes.PushesController()
    releases = runs.ReleasesController()
    deploy_tokens = deploy_tokens.DeployTokensController()
    deploy_keys = deploy_keys.DeployKeysController()
    backups = BackupsController()
    protected_branches = protected_branches.ProtectedBranchesController()

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
        if 'restore_from' in fields:
            raise exception.InvalidInput('restore_from', 'only when a repo is created')
        return render(base.services().repos.update(base.ctx(), uuid, **fields))

    @wsme_pecan.wsexpose(None, types.text, status_code=204)
    def delete(self, uuid):
        base.services().repos.delete(base.ctx(), uuid)
