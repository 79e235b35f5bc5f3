"""The audit trail as users see it: a project its own events, the admin role all."""
import datetime
from typing import List, Optional

from solum_git.common import events
from solum_git.common import exception
from solum_git.common import validation
from solum_git.db import models
from solum_git.services import audit
from solum_git.services import base
from solum_git.services import context
from solum_git.services import views


def _since(value: Optional[str]) -> Optional[datetime.datetime]:
    if value is None:
        return None
    validation.text(value, 'since', 40)
    try:
        at = datetime.datetime.fromisoformat(value.strip().replace('Z', '+00:00'))
    except ValueError:
        raise exception.InvalidInput('since', 'must be an ISO 8601 time '
                                     '(2026-01-31T12:00:00Z)')
    if at.tzinfo is not None:
        at = at.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return at


class EventService(base.Service):
    resource = 'event'
    model = models.Event
    sort_keys = ('at', 'id')
    view = staticmethod(audit.view)

    def list(self, ctx: context.RequestContext, limit: Optional[int] = None,
             marker: Optional[str] = None, sort_key: Optional[str] = None,
             sort_dir: Optional[str] = None, resource_uuid: Optional[str] = None,
             action: Optional[str] = None, outcome: Optional[str] = None,
             since: Optional[str] = None) -> List[views.View]:
        """Newest first; ``since``: at or after that time (UTC when no offset)."""
        filters = []
        if resource_uuid is not None:
            validation.text(resource_uuid, 'resource_uuid', 36)
            filters.append(models.Event.resource_uuid == resource_uuid)
        if action is not None:
            if action not in events.ACTIONS:
                raise exception.InvalidInput('action', 'must be one of %s'
                                             % ', '.join(events.ACTIONS))
            filters.append(models.Event.action == action)
        if outcome is not None:
            if outcome not in events.OUTCOMES:
                raise exception.InvalidInput('outcome', 'must be one of %s'
                                             % ', '.join(events.OUTCOMES))
            filters.append(models.Event.outcome == outcome)
        at = _since(since)
        if at is not None:
            filters.append(models.Event.at >= at)
        return self.list_rows(ctx, limit, marker, sort_key or 'at', sort_dir, *filters)
