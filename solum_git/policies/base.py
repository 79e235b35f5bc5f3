from oslo_policy import policy

from solum_git.common import access

ADMIN = 'rule:context_is_admin'
ADMIN_OR_PROJECT = 'rule:admin_or_project'
ADMIN_OR_KEY_OWNER = 'rule:admin_or_key_owner'
ADMIN_OR_REPO_OWNER = 'rule:admin_or_repo_owner'

rules = [
    policy.RuleDefault('context_is_admin', 'role:admin',
                       description='The admin role sees and changes everything.'),
    policy.RuleDefault('admin_or_project',
                       'rule:context_is_admin or project_id:%(project_id)s',
                       description='Admin, or any user of the owning project.'),
    policy.RuleDefault('admin_or_key_owner',
                       'rule:context_is_admin or user_id:%(user_id)s',
                       description='Admin, or the user who uploaded the key.'),
    # the caller's own permission on the repo is passed in the target
    policy.RuleDefault('admin_or_repo_owner',
                       'rule:context_is_admin or (project_id:%%(project_id)s and '
                       '\'%s\':%%(caller_permission)s)' % access.OWNER,
                       description='Admin, or a %s member of the repo.' % access.OWNER),
]


def crud(resource, defaults, descriptions):
    """DocumentedRuleDefaults for one resource's operations."""
    out = []
    for action, (check, method, path) in defaults.items():
        out.append(policy.DocumentedRuleDefault(
            name='solum_git:%s:%s' % (resource, action),
            check_str=check,
            description=descriptions.get(action, '%s a %s' % (action, resource)),
            operations=[{'method': method, 'path': path}]))
    return out
