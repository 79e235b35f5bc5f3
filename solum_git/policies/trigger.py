from solum_git.policies import base

_P = '/v1/infrastructure/repos/{uuid}/triggers'
rules = base.crud('trigger', {
    'list': (base.ADMIN_OR_PROJECT, 'GET', _P),
    'get': (base.ADMIN_OR_PROJECT, 'GET', _P + '/{trigger_uuid}'),
    'create': (base.ADMIN_OR_REPO_OWNER, 'POST', _P),
    'update': (base.ADMIN_OR_REPO_OWNER, 'PUT', _P + '/{trigger_uuid}'),
    'delete': (base.ADMIN_OR_REPO_OWNER, 'DELETE', _P + '/{trigger_uuid}'),
}, {})
