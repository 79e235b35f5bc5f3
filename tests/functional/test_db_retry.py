"""Transactions refused for a concurrent one run again (db.api.retry_on_lock, oslo.db's
wrap_db_retry): real deadlocks on MariaDB and PostgreSQL, SQLite's lock; and the
SQLite writer's BEGIN IMMEDIATE, which leans on a private detail of oslo.db."""
import sqlite3
import threading
import time

from oslo_db import exception as db_exc
import pytest
import sqlalchemy as sa

from solum_git.db import api as db_api
from tests import helpers

ROWS = sa.Table('retry_rows', sa.MetaData(), sa.Column('id', sa.Integer, primary_key=True),
                sa.Column('value', sa.Integer, nullable=False))


def _database(url):
    db = db_api.Database(url)
    ROWS.create(db.engine)
    with db.writer() as session:
        session.execute(ROWS.insert(), [{'id': 1, 'value': 0}, {'id': 2, 'value': 0}])
    return db


@pytest.mark.parametrize('backend', ['mysql', 'postgresql'])
def test_a_deadlocked_transaction_is_run_again(tmp_path, backend):
    """Two writers take rows 1 and 2 in opposite orders: the server kills one
    (deadlock), which runs again once the other committed; both changes land."""
    with helpers.database(backend, tmp_path) as url:
        db = _database(url)
        try:
            both_hold_one = threading.Barrier(2, timeout=30)
            attempts = {1: 0, 2: 0}

            def writer(first, second):
                @db_api.retry_on_lock
                def change():
                    attempts[first] += 1
                    with db.writer() as session:
                        session.execute(ROWS.update().where(ROWS.c.id == first)
                                        .values(value=ROWS.c.value + 1))
                        if attempts[first] == 1:
                            both_hold_one.wait()
                        session.execute(ROWS.update().where(ROWS.c.id == second)
                                        .values(value=ROWS.c.value + 10))
                change()

            threads = [threading.Thread(target=writer, args=order) for order in ((1, 2), (2, 1))]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            assert sorted(attempts.values()) == [1, 2]
            with db.reader() as session:
                assert dict(session.execute(sa.select(ROWS.c.id, ROWS.c.value)).all()) == {
                    1: 11, 2: 11}
        finally:
            db.dispose()


def _hold_write_lock(path, seconds):
    """Another process's writer: the write lock, for ``seconds``."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute('BEGIN IMMEDIATE')
    released = threading.Event()

    def release():
        time.sleep(seconds)
        conn.execute('ROLLBACK')
        conn.close()
        released.set()
    threading.Thread(target=release, daemon=True).start()
    return released


def test_a_writer_that_finds_sqlite_locked_past_its_busy_timeout_runs_again(tmp_path):
    path = tmp_path / 'locked.sqlite'
    # a busy timeout of 50 ms: the lock, held 400 ms, outlasts several of them
    db = _database('sqlite:///%s?timeout=0.05' % path)
    try:
        attempts = []

        @db_api.retry_on_lock
        def change():
            attempts.append(1)
            with db.writer() as session:
                session.execute(ROWS.update().values(value=5))

        released = _hold_write_lock(str(path), 0.4)
        change()
        assert released.is_set()
        assert len(attempts) > 1
        with db.reader() as session:
            assert session.execute(sa.select(sa.func.sum(ROWS.c.value))).scalar() == 10
    finally:
        db.dispose()


@pytest.fixture
def sqlite_db(tmp_path):
    """(Database, its file) on SQLite, with the two rows."""
    path = tmp_path / 'rows.sqlite'
    db = _database('sqlite:///%s' % path)
    yield db, str(path)
    db.dispose()


def test_a_duplicate_is_not_run_again(sqlite_db):
    db, _ = sqlite_db
    attempts = []

    @db_api.retry_on_lock
    def insert():
        attempts.append(1)
        with db.writer() as session:
            session.execute(ROWS.insert().values(id=1, value=3))
    with pytest.raises(db_exc.DBDuplicateEntry):
        insert()
    assert len(attempts) == 1


# -- the SQLite writer's BEGIN IMMEDIATE (db/api.py _immediate_writers) ---------
# These fail if oslo.db stops beginning SQLite transactions with the plain
# "BEGIN" that db/api.py rewrites (a writer would begin deferred, or not at all).

def _try_write_lock(path):
    """True if another connection can take the write lock now (no waiting)."""
    conn = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        conn.execute('BEGIN IMMEDIATE')
        conn.execute('ROLLBACK')
        return True
    except sqlite3.OperationalError as e:
        assert 'database is locked' in str(e)
        return False
    finally:
        conn.close()


def test_a_sqlite_writer_holds_the_write_lock_from_its_start(sqlite_db):
    db, path = sqlite_db
    with db.writer():
        assert not _try_write_lock(path)
    assert _try_write_lock(path)
    with db.reader() as session:
        session.execute(sa.select(ROWS.c.id)).all()
        assert _try_write_lock(path)


def test_sqlite_writes_commit_and_roll_back_as_one_transaction(sqlite_db):
    db, path = sqlite_db
    with pytest.raises(RuntimeError):
        with db.writer() as session:
            session.execute(ROWS.update().values(value=7))
            raise RuntimeError('undo')
    for _ in range(3):  # the same pooled connection begins again each time
        with db.writer() as session:
            session.execute(ROWS.update().values(value=ROWS.c.value + 1))
    conn = sqlite3.connect(path)
    try:
        assert conn.execute('SELECT value FROM retry_rows').fetchall() == [(3,), (3,)]
    finally:
        conn.close()
