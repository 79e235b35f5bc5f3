from solum_git.policies import base

rules = base.crud('backup', {
    'list': (base.ADMIN_OR_PROJECT, 'GET', '/v1/infrastructure/repos/{uuid}/backups'),
}, {}) + base.crud('stack', {
    'restore': (base.ADMIN_OR_PROJECT, 'POST', '/v1/infrastructure/stacks/{uuid}/actions'),
}, {'restore': 'Restore every repo of the git server from its latest backups.'})
