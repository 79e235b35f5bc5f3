from solum_git.policies import base

_P = '/v1/infrastructure/repos'
rules = base.crud('repo', {
    'list': (base.ADMIN_OR_PROJECT, 'GET', _P),
    'get': (base.ADMIN_OR_PROJECT, 'GET', _P + '/{uuid}'),
    'create': (base.ADMIN_OR_PROJECT, 'POST', _P),
    'update': (base.ADMIN_OR_REPO_OWNER, 'PUT', _P + '/{uuid}'),
    'delete': (base.ADMIN_OR_REPO_OWNER, 'DELETE', _P + '/{uuid}'),
}, {})
