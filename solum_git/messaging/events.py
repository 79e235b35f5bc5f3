"""The notifications solum-git emits: every event name and its payload, defined once.

A payload is built only from the fields its event lists here, so a secret
(a webhook secret, a token, a private key) cannot reach the bus by accident:
``payload()`` refuses any other field, and ``SECRET_WORDS`` names what no
field may be called.
"""
from typing import Any, Dict, Tuple

from solum_git.common import events as audit
from solum_git.common import states

PREFIX = 'solum_git.'

# the changes the audit trail records go out under the audit's own words
# (common/events.py); a change that completes asynchronously gets ".end"
REPO_CREATE_END = PREFIX + audit.REPO_CREATE + '.end'
REPO_DELETE_END = PREFIX + audit.REPO_DELETE + '.end'
MEMBER_SET = PREFIX + audit.MEMBER_SET
MEMBER_DELETE = PREFIX + audit.MEMBER_DELETE
KEY_CREATE = PREFIX + audit.KEY_CREATE
KEY_DELETE = PREFIX + audit.KEY_DELETE
TRIGGER_CREATE = PREFIX + audit.TRIGGER_CREATE
TRIGGER_DELETE = PREFIX + audit.TRIGGER_DELETE
PUSH_RECEIVED = PREFIX + audit.PUSH + '.received'
RUN_START = PREFIX + 'run.start'
RUN_END = PREFIX + 'run.end'
STACK_ACTIVE = PREFIX + 'stack.active'
STACK_ERROR = PREFIX + 'stack.error'
STACK_DELETE_END = PREFIX + 'stack.delete.end'

_REPO = ('repo_id', 'name', 'project_id', 'stack_id', 'status')
_STACK = ('stack_id', 'project_id', 'provisioner', 'status', 'status_reason')
_RUN = ('run_id', 'push_id', 'repo_id', 'trigger_id', 'project_id', 'type', 'ref',
        'commit', 'attempt', 'status', 'status_reason')

# event -> the payload's fields: ids are the API's uuids, never database ids
FIELDS: Dict[str, Tuple[str, ...]] = {
    REPO_CREATE_END: _REPO,
    REPO_DELETE_END: _REPO,
    MEMBER_SET: ('repo_id', 'project_id', 'user_id', 'permission'),
    MEMBER_DELETE: ('repo_id', 'project_id', 'user_id'),
    KEY_CREATE: ('key_id', 'name', 'user_id', 'project_id', 'fingerprint'),
    KEY_DELETE: ('key_id', 'name', 'user_id', 'project_id', 'fingerprint'),
    TRIGGER_CREATE: ('trigger_id', 'repo_id', 'project_id', 'type'),
    TRIGGER_DELETE: ('trigger_id', 'repo_id', 'project_id', 'type'),
    PUSH_RECEIVED: ('push_id', 'repo_id', 'project_id', 'user_id', 'refs', 'runs'),
    RUN_START: _RUN,
    RUN_END: _RUN,
    STACK_ACTIVE: _STACK,
    STACK_ERROR: _STACK,
    STACK_DELETE_END: _STACK,
}

# the event a stack's status change is told as
STACK_STATUS_EVENTS = {
    states.StackStatus.ACTIVE: STACK_ACTIVE,
    states.StackStatus.ERROR: STACK_ERROR,
}

# no payload field may contain one of these words
SECRET_WORDS = ('secret', 'token', 'password', 'private', 'credential')


class UnknownField(ValueError):
    """A payload field its event does not list (a programming error)."""


def payload(event: str, **fields: Any) -> Dict[str, Any]:
    """The payload of ``event``: its listed fields, each present (None if not given)."""
    allowed = FIELDS[event]
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise UnknownField('%s: fields %s are not in its payload' % (event, ', '.join(unknown)))
    return {name: fields.get(name) for name in allowed}
