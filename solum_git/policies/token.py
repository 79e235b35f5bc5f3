from solum_git.policies import base

_P = '/v1/infrastructure/tokens'
rules = base.crud('token', {
    'list': (base.ADMIN_OR_KEY_OWNER, 'GET', _P),
    'create': (base.ADMIN_OR_KEY_OWNER, 'POST', _P),
    'delete': (base.ADMIN_OR_KEY_OWNER, 'DELETE', _P + '/{uuid}'),
}, {'create': 'Make a personal access token: git over HTTP as oneself.'})
