from solum_git.policies import base

_P = '/v1/infrastructure/repos/{uuid}/protected_branches'
rules = base.crud('protected_branch', {
    'list': (base.ADMIN_OR_PROJECT, 'GET', _P),
    'update': (base.ADMIN_OR_REPO_OWNER, 'PUT', _P + '/{pattern}'),
    'delete': (base.ADMIN_OR_REPO_OWNER, 'DELETE', _P + '/{pattern}'),
}, {'update': 'Protect the branches a name or glob matches: who may push '
              '(RW or RW+), whether force-pushes and deletes are allowed.'})
