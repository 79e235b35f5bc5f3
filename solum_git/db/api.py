"""Database access: one ``Database`` per process, built by the composition root.

Sessions come from oslo.db's enginefacade; callers use ``db.writer()`` and
``db.reader()`` as context managers and get a SQLAlchemy session.

What a transaction has to tell (its audit events, services/audit.py, and the
engine's news, common/events.py) rides in its session (``tell``) and is
handed to the Database's ``publish`` once the transaction commits, by one
after_commit listener; a rollback drops it.
"""
import contextlib
import logging
import threading
from typing import Any, Callable, List, Optional

from oslo_db import api as oslo_db_api
from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import enginefacade
from oslo_db.sqlalchemy import utils as db_utils
import sqlalchemy as sa

from solum_git.common import exception

LOG = logging.getLogger(__name__)
# session.info: what the session's transaction tells once it commits
PENDING = 'solum_git.events'


def tell(session, event: dict) -> None:
    """Publish ``event`` when ``session``'s transaction commits; never if it rolls back."""
    session.info.setdefault(PENDING, []).append(event)


def _dropped(session):
    session.info.pop(PENDING, None)


@enginefacade.transaction_context_provider
class _Holder:
    """A fresh enginefacade context per unit of work."""


_WRITING = threading.local()


def _immediate_writers(conn, cursor, statement, parameters, context, executemany):
    """SQLite: a writer takes the write lock at BEGIN (BEGIN IMMEDIATE).

    A deferred transaction that reads and then writes while another connection
    writes cannot wait (deadlock), so SQLite fails it at once with "database
    is locked"; an immediate one queues on the busy timeout instead.

    oslo.db begins SQLite transactions itself, with a plain "BEGIN" from a
    private "begin" listener (oslo_db/sqlalchemy/engines.py); SQLAlchemy runs
    engine listeners in the order they came, so that statement is rewritten
    here. tests/functional/test_db_retry.py fails if oslo.db stops sending it.
    """
    if statement == 'BEGIN' and getattr(_WRITING, 'on', False):
        statement = 'BEGIN IMMEDIATE'
    return statement, parameters


def _sqlite_locked(error):
    """SQLite's "database is locked" (its busy timeout ran out)."""
    return (not isinstance(error, db_exc.DBDuplicateEntry)
            and 'database is locked' in str(error))


# A short transaction refused for a concurrent one is run again whole, with
# jittered backoff (at most ~5 s in all): MySQL/PostgreSQL deadlocks (oslo.db's
# DBDeadlock) and SQLite's lock. Decorate the function that opens the writer.
retry_on_lock = oslo_db_api.wrap_db_retry(
    max_retries=9, retry_interval=0.01, inc_retry_interval=True, max_retry_interval=2.5,
    jitter=True, retry_on_deadlock=True, exception_checker=_sqlite_locked)


class Database:
    """``publish(events)``: called after each commit with what it told, in order."""

    def __init__(self, connection, publish: Optional[Callable[[List[Any]], None]] = None,
                 **engine_opts):
        self.connection = connection
        self.publish = publish
        self._listening = False
        self._listen_lock = threading.Lock()
        self._facade = enginefacade.transaction_context()
        opts = {'connection': connection}
        if connection.startswith('sqlite'):
            opts['sqlite_synchronous'] = False
        opts.update(engine_opts)
        self._facade.configure(**opts)
        self._sqlite = connection.startswith('sqlite')
        if self._sqlite:
            sa.event.listen(self.engine, 'before_cursor_execute', _immediate_writers,
                            retval=True)

    @property
    def engine(self):
        return self._facade.writer.get_engine()

    def _listen(self):
        """The commit and rollback listeners, once, on this Database's sessions
        (when its engine starts: oslo.db connects then)."""
        with self._listen_lock:
            if not self._listening:
                maker = self._facade.writer.get_sessionmaker()
                sa.event.listen(maker, 'after_commit', self._committed)
                sa.event.listen(maker, 'after_rollback', _dropped)
                self._listening = True

    def _committed(self, session):
        told = session.info.pop(PENDING, None)
        if not told or self.publish is None:
            return
        try:
            self.publish(told)
        except Exception:
            # the change is committed: its caller is told so, whatever this says
            LOG.exception('%d events committed but not published', len(told))

    @contextlib.contextmanager
    def writer(self):
        if not self._listening:
            self._listen()
        with self._facade.writer.using(_Holder()) as session:
            if self._sqlite:
                _WRITING.on = True
                try:
                    session.connection()
                finally:
                    _WRITING.on = False
            yield session

    @contextlib.contextmanager
    def reader(self):
        with self._facade.reader.using(_Holder()) as session:
            yield session

    def dispose(self):
        self._facade.dispose_pool()

    def after_fork(self):
        """In a forked child: a pool of its own, the parent's connections left open."""
        engines = {id(e): e for e in (self._facade.writer.get_engine(),
                                      self._facade.reader.get_engine())}
        for engine in engines.values():
            engine.dispose(close=False)


def paginate(session, query, model, limit, marker_uuid, sort_key, sort_dir):
    """OpenStack paging: ``marker`` is the uuid of the last row seen.

    The marker is looked up through the caller's own (scoped) query, so another
    project's uuid is "no such item", not a way to learn that it exists.
    """
    marker = None
    if marker_uuid is not None:
        marker = query.filter(model.uuid == marker_uuid).one_or_none()
        if marker is None:
            raise exception.InvalidInput('marker', 'no such item: %s' % marker_uuid)
    sort_keys = [sort_key] if sort_key == 'id' else [sort_key, 'id']
    try:
        query = db_utils.paginate_query(query, model, limit, sort_keys,
                                        marker=marker, sort_dir=sort_dir)
    except db_exc.InvalidSortKey:
        raise exception.InvalidInput('sort_key', 'cannot sort by %s' % sort_key)
    return query.all()
