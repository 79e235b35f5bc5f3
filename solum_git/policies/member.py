from solum_git.policies import base

_P = '/v1/infrastructure/repos/{uuid}/members'
rules = base.crud('member', {
    'list': (base.ADMIN_OR_PROJECT, 'GET', _P),
    'update': (base.ADMIN_OR_REPO_OWNER, 'PUT', _P + '/{user_id}'),
    'delete': (base.ADMIN_OR_REPO_OWNER, 'DELETE', _P + '/{user_id}'),
}, {'update': 'Give a user R, RW or RW+ on a repo.'})
