from pecan import rest
from wsmeext import pecan as wsme_pecan

from solum_git.api.controllers.v1 import base
from solum_git.api.controllers.v1 import events
from solum_git.api.controllers.v1 import keys
from solum_git.api.controllers.v1 import quotas
from solum_git.api.controllers.v1 import repos
from solum_git.api.controllers.v1 import runs
from solum_git.api.controllers.v1 import stacks
from solum_git.api.controllers.v1 import tokens
from solum_git.api import types


class InfrastructureController(rest.RestController):
    stacks = stacks.StacksController()
    repos = repos.ReposController()
    keys = keys.KeysController()
    runs = runs.RunsController()
    tokens = tokens.TokensController()
    events = events.EventsController()
    quotas = quotas.QuotasController()

    @wsme_pecan.wsexpose(types.Infrastructure)
    def get(self):
        return types.Infrastructure(
            uri=base.url('v1/infrastructure'), name='solum-git',
            type='infrastructure',
            description='Git servers (gitolite over SSH) for this project, their '
                        'repositories, keys and push-triggered pipelines',
            stacks_uri=base.url('v1/infrastructure/stacks'),
            repos_uri=base.url('v1/infrastructure/repos'),
            keys_uri=base.url('v1/infrastructure/keys'),
            runs_uri=base.url('v1/infrastructure/runs'))
