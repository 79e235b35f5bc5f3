"""Retry a short transaction that SQLite refused with "database is locked".

SQLite lets one writer in at a time; a transaction that read first and then
writes while another writer commits gets SQLITE_BUSY at once (no busy wait).
MySQL and PostgreSQL never raise this, so the retry costs them nothing.
"""
import random
import time

from oslo_db import exception as db_exc
from sqlalchemy import exc as sa_exc


def is_locked(error):
    return 'database is locked' in str(error)


def on_lock(function, attempts=10, first_wait=0.01):
    """``function()``, called again (jittered backoff) while SQLite is locked."""
    for attempt in range(attempts):
        try:
            return function()
        except (db_exc.DBError, sa_exc.OperationalError) as e:
            if isinstance(e, db_exc.DBDuplicateEntry) or not is_locked(e) \
                    or attempt == attempts - 1:
                raise
            time.sleep(first_wait * 2 ** attempt * (0.5 + random.random()))
