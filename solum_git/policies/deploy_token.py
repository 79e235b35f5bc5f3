from solum_git.policies import base

_P = '/v1/infrastructure/repos/{uuid}/deploy_tokens'
rules = base.crud('deploy_token', {
    'list': (base.ADMIN_OR_PROJECT, 'GET', _P),
    'create': (base.ADMIN_OR_REPO_OWNER, 'POST', _P),
    'delete': (base.ADMIN_OR_REPO_OWNER, 'DELETE', _P + '/{token_uuid}'),
}, {'create': 'Make a token for git over HTTP to one repo (R or RW).'})
