from solum_git.policies import base

_P = '/v1/infrastructure/keys'
rules = base.crud('key', {
    'list': (base.ADMIN_OR_KEY_OWNER, 'GET', _P),
    'get': (base.ADMIN_OR_KEY_OWNER, 'GET', _P + '/{uuid}'),
    'create': (base.ADMIN_OR_KEY_OWNER, 'POST', _P),
    'delete': (base.ADMIN_OR_KEY_OWNER, 'DELETE', _P + '/{uuid}'),
}, {})
