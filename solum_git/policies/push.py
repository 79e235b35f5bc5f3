from solum_git.policies import base

rules = base.crud('push', {
    'list': (base.ADMIN_OR_PROJECT, 'GET', '/v1/infrastructure/repos/{uuid}/pushes'),
    'get': (base.ADMIN_OR_PROJECT, 'GET',
            '/v1/infrastructure/repos/{uuid}/pushes/{push_uuid}'),
}, {}) + base.crud('run', {
    'get': (base.ADMIN_OR_PROJECT, 'GET', '/v1/infrastructure/runs/{uuid}'),
    'redeliver': (base.ADMIN_OR_REPO_OWNER, 'POST',
                  '/v1/infrastructure/runs/{uuid}/actions'),
    'rollback': (base.ADMIN_OR_REPO_OWNER, 'POST',
                 '/v1/infrastructure/runs/{uuid}/actions'),
}, {}) + base.crud('release', {
    'list': (base.ADMIN_OR_PROJECT, 'GET', '/v1/infrastructure/repos/{uuid}/releases'),
}, {})
