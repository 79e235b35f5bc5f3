from solum_git.policies import base

_P = '/v1/infrastructure/stacks'
rules = base.crud('stack', {
    'list': (base.ADMIN_OR_PROJECT, 'GET', _P),
    'get': (base.ADMIN_OR_PROJECT, 'GET', _P + '/{uuid}'),
    'create': (base.ADMIN_OR_PROJECT, 'POST', _P),
    'update': (base.ADMIN_OR_PROJECT, 'PUT', _P + '/{uuid}'),
    'delete': (base.ADMIN_OR_PROJECT, 'DELETE', _P + '/{uuid}'),
    'resync': (base.ADMIN_OR_PROJECT, 'POST', _P + '/{uuid}/actions'),
}, {'resync': 'Re-apply the whole configuration to the git server now.'})
