from solum_git.policies import base

_P = '/v1/infrastructure/repos/{uuid}/deploy_keys'
rules = base.crud('deploy_key', {
    'list': (base.ADMIN_OR_PROJECT, 'GET', _P),
    'create': (base.ADMIN_OR_REPO_OWNER, 'POST', _P),
    'delete': (base.ADMIN_OR_REPO_OWNER, 'DELETE', _P + '/{key_uuid}'),
}, {'create': 'Give an SSH key R or RW on one repo.'})
