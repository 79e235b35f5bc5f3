"""Who holds a lease, and when its holder is known to be dead.

A holder id is ``<host>:<machine>:<pid>:<start time>:<tag>``: ``machine`` names
this kernel boot and pid namespace, so a holder on the same machine can be
looked up in /proc. Such a holder whose pid is gone, or now belongs to a
process that started at another time, is dead: its leases are taken over at
once instead of after ``[engine] lease_seconds``. A holder on another machine
(or an id in an older format) is never judged; its lease runs out as before.
"""
import datetime
import functools
import hashlib
import logging
import os
import socket
from typing import Callable, Iterable, List, Optional
import uuid

import sqlalchemy as sa

from solum_git.common import procs
from solum_git.db import api as db_api
from solum_git.db import models

LOG = logging.getLogger(__name__)


@functools.lru_cache(maxsize=1)
def machine() -> str:
    """Ten hex digits for this kernel boot and pid namespace."""
    parts = [socket.gethostname()]
    try:
        with open('/proc/sys/kernel/random/boot_id') as f:
            parts.append(f.read().strip())
        parts.append(os.readlink('/proc/self/ns/pid'))
    except OSError:
        parts.append('unknown')
    return hashlib.sha256('\0'.join(parts).encode()).hexdigest()[:10]


def holder_id(pid: Optional[int] = None) -> str:
    """A new id for a holder in this process (or ``pid``) on this machine.

    The last part tells holders of one process apart (two engines in a test).
    """
    pid = os.getpid() if pid is None else pid
    return '%s:%s:%d:%d:%s' % (socket.gethostname()[:16], machine(), pid,
                               procs.start_time(pid) or 0, uuid.uuid4().hex[:6])


def known_dead(holder: Optional[str]) -> bool:
    """True only for a holder of this machine whose process is gone."""
    try:
        _host, where, pid_text, started_text, _tag = (holder or '').rsplit(':', 4)
        pid, started = int(pid_text), int(started_text)
    except ValueError:
        return False
    if where != machine():
        return False
    return not procs.alive(pid, started)


def dead_among(holders: Iterable[Optional[str]]) -> List[str]:
    return sorted({h for h in holders if h and known_dead(h)})


def takeable(column_owner: sa.ColumnElement, column_expires: sa.ColumnElement, me: str,
             now: datetime.datetime, dead: Iterable[str] = ()) -> sa.ColumnElement[bool]:
    """SQL: the lease is free, mine, expired, or held by a dead holder."""
    clauses = [column_owner.is_(None), column_owner == me, column_expires < now]
    if dead:
        clauses.append(column_owner.in_(list(dead)))
    return sa.or_(*clauses)


def claim_stack(db: db_api.Database, stack_id: int, me: str, seconds: float,
                judge: Callable[[Iterable[Optional[str]]], List[str]] = dead_among) -> bool:
    """Take the stack's lease unless a live holder has it; True if taken.

    ``judge``: which of the given holders are dead (the coordination group's
    view when there is one: engine/ownership.py). A free lease is taken at
    once; the holder is read (and judged) only when it is not.
    """
    if _take(db, stack_id, me, seconds):
        return True
    with db.reader() as session:
        owner = session.execute(sa.select(models.Stack.lease_owner).where(
            models.Stack.id == stack_id)).scalar()
    dead = judge([owner]) if owner and owner != me else []
    if not dead:
        return False
    taken = _take(db, stack_id, me, seconds, dead)
    if taken:
        LOG.info('stack %s: took over the lease of %s, which is dead', stack_id, dead[0])
    return taken


def _take(db: db_api.Database, stack_id: int, me: str, seconds: float,
          dead: Iterable[str] = ()) -> bool:
    stack = models.Stack
    now = models.utcnow()
    allowed = takeable(stack.lease_owner, stack.lease_expires, me, now, dead)
    with db.writer() as session:
        if session.bind.dialect.name in ('mysql', 'postgresql'):
            # a row another engine is claiming right now is skipped, not waited on
            query = sa.select(stack.id).where(stack.id == stack_id, allowed) \
                .with_for_update(skip_locked=True)
            if session.execute(query).first() is None:
                return False
        result = session.execute(
            sa.update(stack).where(stack.id == stack_id, allowed)
            .values(lease_owner=me,
                    lease_expires=now + datetime.timedelta(seconds=seconds),
                    updated_at=stack.updated_at)
            .execution_options(synchronize_session=False))
        return result.rowcount == 1


def release_stack(db: db_api.Database, stack_id: int, me: str) -> None:
    stack = models.Stack
    with db.writer() as session:
        session.execute(
            sa.update(stack).where(stack.id == stack_id, stack.lease_owner == me)
            .values(lease_owner=None, lease_expires=None, updated_at=stack.updated_at)
            .execution_options(synchronize_session=False))
