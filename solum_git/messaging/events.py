"""The notifications solum-git emits: every event type and its payload, defined once.

Each notification is one audit event (services/audit.py) or one piece of the
engine's news (common/events.py), published after its transaction commits
(db/api.py). A payload is built only from the fields its action lists here,
so nothing else the event holds reaches the bus, and ``SECRET_WORDS`` names
what no field may be called. Refused attempts (outcome ``denied``) are in
the audit trail only.

Where a field's value is found in the event: ``RENAMED``, else the event's
own field or its detail's of that name, else for ``X_id`` the detail's
``X_uuid`` or the event's ``resource_uuid`` when its resource is an X (ids
are the API's uuids, never database ids); ``FIXED`` fields are constants.
"""
from typing import Any, Dict, Optional, Tuple

from solum_git.common import events as audit
from solum_git.common import states

PREFIX = 'solum_git.'

# an action is told as PREFIX + action; these three under the names they had
# before every audit event was told (a change that completes later: ".end")
EVENT_TYPES: Dict[str, str] = {action: PREFIX + action
                               for action in audit.ACTIONS + audit.NEWS}
EVENT_TYPES.update({audit.REPO_CREATE: PREFIX + 'repo.create.end',
                    audit.REPO_DELETE: PREFIX + 'repo.delete.end',
                    audit.PUSH: PREFIX + 'push.received'})

_REPO = ('repo_id', 'name', 'project_id', 'stack_id', 'status')
_REPO_CHANGE = ('repo_id', 'project_id', 'description', 'default_branch')
_KEY = ('key_id', 'name', 'user_id', 'project_id', 'fingerprint')
_TRIGGER = ('trigger_id', 'repo_id', 'project_id', 'type')
_STACK_ASKED = ('stack_id', 'project_id')
_STACK = ('stack_id', 'project_id', 'provisioner', 'status', 'status_reason')
_RUN = ('run_id', 'push_id', 'repo_id', 'trigger_id', 'project_id', 'type', 'ref',
        'commit', 'attempt', 'status', 'status_reason')

# action -> its payload's fields
FIELDS: Dict[str, Tuple[str, ...]] = {
    audit.REPO_CREATE: _REPO,
    audit.REPO_UPDATE: _REPO_CHANGE,
    audit.REPO_RENAME: ('old_name', 'name') + _REPO_CHANGE,
    audit.REPO_DELETE: _REPO,
    audit.MEMBER_SET: ('repo_id', 'project_id', 'user_id', 'permission', 'previous'),
    audit.MEMBER_DELETE: ('repo_id', 'project_id', 'user_id', 'previous'),
    audit.KEY_CREATE: _KEY,
    audit.KEY_DELETE: _KEY,
    audit.TRIGGER_CREATE: _TRIGGER + ('branches',),
    audit.TRIGGER_DELETE: _TRIGGER,
    audit.DEPLOY_TOKEN_CREATE: ('deploy_token_id', 'repo_id', 'project_id', 'username',
                                'permission'),
    audit.DEPLOY_TOKEN_DELETE: ('deploy_token_id', 'repo_id', 'project_id'),
    audit.DEPLOY_KEY_CREATE: ('deploy_key_id', 'repo_id', 'project_id', 'fingerprint',
                              'permission'),
    audit.DEPLOY_KEY_DELETE: ('deploy_key_id', 'repo_id', 'project_id'),
    audit.TOKEN_CREATE: ('token_id', 'name', 'user_id', 'project_id'),
    audit.TOKEN_DELETE: ('token_id', 'user_id', 'project_id'),
    audit.STACK_CREATE: _STACK_ASKED,
    audit.STACK_DELETE: _STACK_ASKED,
    audit.STACK_RESYNC: _STACK_ASKED,
    audit.STACK_RESTORE: _STACK_ASKED,
    audit.PUSH: ('push_id', 'repo_id', 'project_id', 'user_id', 'refs', 'runs',
                 'truncated'),
    audit.RUN_START: _RUN,
    audit.RUN_END: _RUN,
    audit.STACK_ACTIVE: _STACK,
    audit.STACK_ERROR: _STACK,
    audit.STACK_DELETE_END: _STACK,
}

# a field whose value the event holds under another name: the member a
# change is about, the owner of a key or token an admin removed
RENAMED: Dict[str, Dict[str, str]] = {
    audit.MEMBER_SET: {'user_id': 'member'},
    audit.MEMBER_DELETE: {'user_id': 'member'},
    audit.KEY_DELETE: {'user_id': 'owner'},
    audit.TOKEN_DELETE: {'user_id': 'owner'},
}

FIXED: Dict[str, Dict[str, Any]] = {
    audit.REPO_CREATE: {'status': states.RepoStatus.BUILDING},
    audit.REPO_DELETE: {'status': 'DELETED'},
}

# no payload field may contain one of these words (an ``X_id`` is a uuid)
SECRET_WORDS = ('secret', 'token', 'password', 'private', 'credential')


def _value(event: Dict[str, Any], field: str) -> Any:
    detail = event.get('detail') or {}
    if field in event:
        return event[field]
    if field in detail:
        return detail[field]
    if field.endswith('_id'):
        thing = field[:-len('_id')]
        if thing + '_uuid' in detail:
            return detail[thing + '_uuid']
        if event.get('resource_type') == thing:
            return event.get('resource_uuid')
    return None


def notification(event: Dict[str, Any]) -> Optional[Tuple[str, Dict[str, Any]]]:
    """``(event type, payload)`` of an audit event or the engine's news, None if
    it is not told (a refused attempt)."""
    if event['outcome'] != audit.SUCCESS:
        return None
    action = event['action']
    renamed = RENAMED.get(action, {})
    body = {field: _value(event, renamed.get(field, field)) for field in FIELDS[action]}
    body.update(FIXED.get(action, {}))
    return EVENT_TYPES[action], body
