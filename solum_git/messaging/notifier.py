"""Notifications on the standard notifier (``[oslo_messaging_notifications]``)."""
from typing import Any, Optional

from oslo_context import context

from solum_git.messaging import events
from solum_git.messaging import sender as sender_mod


def _context(ctx) -> context.RequestContext:
    """Who and which request only, never the caller's token (oslo.messaging sends
    a context's ``redacted_copy()``; a plain dict it drops)."""
    if ctx is None:
        return context.RequestContext(overwrite=False)
    return context.RequestContext(user_id=ctx.user_id, project_id=ctx.project_id,
                                  request_id=ctx.request_id, overwrite=False)


class Events:
    """``emit(ctx, EVENT, field=...)``: the payload is checked here, sent off-thread."""

    def __init__(self, sender: Optional[sender_mod.Sender] = None):
        self.sender = sender

    @property
    def enabled(self) -> bool:
        """Whether anything is sent (callers skip the work of a payload if not)."""
        return self.sender is not None and self.sender.notifications

    def emit(self, ctx, event: str, **fields: Any) -> None:
        body = events.payload(event, **fields)
        if self.sender is not None:
            self.sender.notify(_context(ctx), event, body)
