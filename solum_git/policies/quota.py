from solum_git.policies import base

_P = '/v1/infrastructure/quotas/{project_id}'
rules = base.crud('quota', {
    'get': (base.ADMIN_OR_PROJECT, 'GET', _P),
    'update': (base.ADMIN, 'PUT', _P),
}, {'get': "Show a project's quotas (its own users, or an admin).",
    'update': "Set a project's quotas (admins only)."})
