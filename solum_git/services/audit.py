"""Writing the audit trail: one Event row in the transaction of the change.

``record`` is called by each service inside its writer session, after the
change is flushed: the event and the change are committed together or not at
all. ``denied`` writes a refused access change in a transaction of its own
(the change's own is rolled back by the refusal).

Each event's view is also told to the session (``db_api.tell``): after the
commit, the notifier publishes it (messaging/notifier.py); a rollback drops it.
"""
import contextlib
from typing import Any, Iterator, Optional
import uuid as uuidlib

from sqlalchemy import orm

from solum_git.common import events
from solum_git.common import exception
from solum_git.db import api as db_api
from solum_git.db import models
from solum_git.services import context
from solum_git.services import views

DETAIL_MAX = 20


def view(row: Any) -> views.View:
    return {'uuid': row.uuid, 'at': row.at, 'project_id': row.project_id,
            'user_id': row.user_id, 'action': row.action, 'outcome': row.outcome,
            'resource_type': row.resource_type, 'resource_uuid': row.resource_uuid,
            'detail': dict(row.detail or {})}


def record(session: orm.Session, user_id: str, project_id: str, action: str,
           resource_type: str, resource_uuid: str, detail: Optional[dict] = None,
           outcome: str = events.SUCCESS) -> views.View:
    """Add one event to ``session``'s transaction; its view."""
    assert action in events.ACTIONS and outcome in events.OUTCOMES, (action, outcome)
    assert resource_type in events.RESOURCE_TYPES, resource_type
    detail = {k: v for k, v in (detail or {}).items() if v is not None}
    assert len(detail) <= DETAIL_MAX
    row = models.Event(uuid=str(uuidlib.uuid4()), at=models.utcnow(),
                       project_id=project_id, user_id=user_id, action=action,
                       outcome=outcome, resource_type=resource_type,
                       resource_uuid=resource_uuid, detail=detail)
    session.add(row)
    shown = view(row)
    db_api.tell(session, shown)
    return shown


def by(session: orm.Session, ctx: context.RequestContext, action: str,
       resource_type: str, resource_uuid: str, project_id: Optional[str] = None,
       **detail: Any) -> views.View:
    """``record`` for the caller ``ctx`` (the project: the resource's, else the caller's)."""
    return record(session, ctx.user_id, project_id or ctx.project_id, action,
                  resource_type, resource_uuid, detail)


def denied(db: db_api.Database, ctx: context.RequestContext, action: str,
           resource_type: str, resource_uuid: str, project_id: str,
           **detail: Any) -> None:
    """A refused access change, in its own transaction (the refusal rolls back the other)."""
    with db.writer() as session:
        record(session, ctx.user_id, project_id, action, resource_type, resource_uuid,
               detail, outcome=events.DENIED)


@contextlib.contextmanager
def denials(db: db_api.Database, ctx: context.RequestContext) -> Iterator[None]:
    """Around a writer: a ``Denied`` refusal is recorded after its rollback."""
    try:
        yield
    except exception.Denied as e:
        denied(db, ctx, **e.event)
        raise
