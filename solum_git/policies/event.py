from solum_git.policies import base

_P = '/v1/infrastructure/events'
rules = base.crud('event', {
    'list': (base.ADMIN_OR_PROJECT, 'GET', _P),
}, {'list': "The audit trail: a project's own events; the admin role sees all."})
