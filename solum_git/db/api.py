"""Database access: one ``Database`` per process, built by the composition root.

Sessions come from oslo.db's enginefacade; callers use ``db.writer()`` and
``db.reader()`` as context managers and get a SQLAlchemy session.
"""
import contextlib
import threading

from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import enginefacade
from oslo_db.sqlalchemy import utils as db_utils
import sqlalchemy as sa

from solum_git.common import exception


@enginefacade.transaction_context_provider
class _Holder:
    """A fresh enginefacade context per unit of work."""


_WRITING = threading.local()


def _sqlite_begin(conn):
    """SQLite: a writer takes the write lock at BEGIN (BEGIN IMMEDIATE).

    A deferred transaction that reads and then writes while another connection
    writes cannot wait (deadlock), so SQLite fails it at once with "database
    is locked"; an immediate one queues on the busy timeout instead. Replaces
    oslo.db's own listener, which always emits a deferred BEGIN.
    """
    if 'in_transaction' not in conn.info:
        conn.exec_driver_sql('BEGIN IMMEDIATE' if getattr(_WRITING, 'on', False)
                             else 'BEGIN')
        conn.info['in_transaction'] = True


def _use_sqlite_begin(engine):
    for listener in list(engine.dispatch.begin):
        if getattr(listener, '__name__', '') == '_sqlite_emit_begin':
            sa.event.remove(engine, 'begin', listener)
    sa.event.listen(engine, 'begin', _sqlite_begin)


class Database:
    def __init__(self, connection, **engine_opts):
        self.connection = connection
        self._facade = enginefacade.transaction_context()
        opts = {'connection': connection}
        if connection.startswith('sqlite'):
            opts['sqlite_synchronous'] = False
        opts.update(engine_opts)
        self._facade.configure(**opts)
        self._sqlite = connection.startswith('sqlite')
        if self._sqlite:
            _use_sqlite_begin(self.engine)

    @property
    def engine(self):
        return self._facade.writer.get_engine()

    @contextlib.contextmanager
    def writer(self):
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
