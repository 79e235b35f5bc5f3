"""Notifications on the standard notifier (``[oslo_messaging_notifications]``).

``Events.publish`` is the Database's ``publish`` (bootstrap.py): what each
committed transaction told, one notification per event it lists.
"""
from typing import Any, Dict, List, Optional

from oslo_context import context

from solum_git.messaging import events
from solum_git.messaging import sender as sender_mod


def _context(event: Dict[str, Any]) -> context.RequestContext:
    """Who and which request only, never the caller's token (oslo.messaging sends
    a context's ``redacted_copy()``; a plain dict it drops). The request is the
    one this thread serves (the API's context hook makes its context current)."""
    current = context.get_current()
    return context.RequestContext(
        user_id=event.get('user_id'), project_id=event.get('project_id'),
        request_id=getattr(current, 'request_id', None),
        global_request_id=getattr(current, 'global_request_id', None), overwrite=False)


class Events:
    """Sends each told event's notification off-thread (sender.py)."""

    def __init__(self, sender: Optional[sender_mod.Sender] = None):
        self.sender = sender

    @property
    def enabled(self) -> bool:
        """Whether anything is sent."""
        return self.sender is not None and self.sender.notifications

    def publish(self, told: List[Dict[str, Any]]) -> None:
        sender = self.sender
        if sender is None or not sender.notifications:
            return
        for event in told:
            found = events.notification(event)
            if found is not None:
                sender.notify(_context(event), *found)
