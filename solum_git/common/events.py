"""The audit trail's words: every action an event records, defined once.

An event is one change of access or content (or a refused attempt at one),
written in the same transaction as the change (services/audit.py). The
engine's news (a run started or ended, a stack's server came up, failed or
went) are no caller's change and not in the trail, but have the same shape.
Once the transaction commits, the notifier publishes both
(messaging/events.py names their notifications).
"""
from typing import Any, Dict

SUCCESS = 'success'
# an access change refused to a caller without the right (policy): recorded
# in a transaction of its own, since the change's own is rolled back
DENIED = 'denied'
OUTCOMES = (SUCCESS, DENIED)

REPO_CREATE = 'repo.create'
REPO_UPDATE = 'repo.update'
REPO_RENAME = 'repo.rename'
REPO_DELETE = 'repo.delete'
MEMBER_SET = 'member.set'
MEMBER_DELETE = 'member.delete'
KEY_CREATE = 'key.create'
KEY_DELETE = 'key.delete'
TRIGGER_CREATE = 'trigger.create'
TRIGGER_DELETE = 'trigger.delete'
DEPLOY_TOKEN_CREATE = 'deploy_token.create'
DEPLOY_TOKEN_DELETE = 'deploy_token.delete'
DEPLOY_KEY_CREATE = 'deploy_key.create'
DEPLOY_KEY_DELETE = 'deploy_key.delete'
TOKEN_CREATE = 'token.create'
TOKEN_DELETE = 'token.delete'
STACK_CREATE = 'stack.create'
STACK_DELETE = 'stack.delete'
STACK_RESYNC = 'stack.resync'
STACK_RESTORE = 'stack.restore'
PUSH = 'push'

ACTIONS = (REPO_CREATE, REPO_UPDATE, REPO_RENAME, REPO_DELETE, MEMBER_SET, MEMBER_DELETE,
           KEY_CREATE, KEY_DELETE, TRIGGER_CREATE, TRIGGER_DELETE, DEPLOY_TOKEN_CREATE,
           DEPLOY_TOKEN_DELETE, DEPLOY_KEY_CREATE, DEPLOY_KEY_DELETE, TOKEN_CREATE,
           TOKEN_DELETE, STACK_CREATE, STACK_DELETE, STACK_RESYNC, STACK_RESTORE, PUSH)

# the kind of thing an event is about (resource_type)
# (what belongs to a repo: members, triggers, deploy tokens and keys, pushes,
# are events of the repo, their own uuid in the detail)
RESOURCE_TYPES = ('repo', 'key', 'token', 'stack')

# the engine's news (resource_type repo for a run, stack for a stack)
RUN_START = 'run.start'
RUN_END = 'run.end'
STACK_ACTIVE = 'stack.active'
STACK_ERROR = 'stack.error'
STACK_DELETE_END = 'stack.delete.end'
NEWS = (RUN_START, RUN_END, STACK_ACTIVE, STACK_ERROR, STACK_DELETE_END)


def news(action: str, resource_type: str, resource_uuid: str, project_id: str,
         **detail: Any) -> Dict[str, Any]:
    """One piece of the engine's news, shaped like an audit event (no caller, not stored)."""
    assert action in NEWS and resource_type in RESOURCE_TYPES, (action, resource_type)
    return {'action': action, 'outcome': SUCCESS, 'project_id': project_id,
            'user_id': None, 'resource_type': resource_type,
            'resource_uuid': resource_uuid, 'detail': detail}
