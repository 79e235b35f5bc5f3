"""Two engines never work on one stack at once: the stack lease, on SQLite,
MariaDB and PostgreSQL (real servers).
"""
import datetime
import os
import subprocess
import threading

import sqlalchemy as sa

from solum_git.db import models
from solum_git.engine import leases
from solum_git.engine import service
from solum_git.engine import stacks
from solum_git.provisioners import base


class FakeProvisioner(base.Provisioner):
    """The lease alone is under test: no server is made, checked or removed."""

    name = 'local'

    def __init__(self):
        super().__init__(None)

    def create(self, stack, settings):
        raise AssertionError('the lease test makes no server')

    check = delete = create


def _stack(db):
    with db.writer() as session:
        row = models.Stack(uuid='00000000-0000-4000-8000-000000000001', name='s',
                           project_id='p', user_id='u', provisioner='local',
                           status='ACTIVE', hook_secret='x', config_version=2,
                           applied_version=1)
        session.add(row)
        session.flush()
        return row.id


def _worker(root):
    engine = service.Engine(root.conf, root.db, FakeProvisioner(), (stacks.StackWorker,))
    return engine.workers[0]


def test_one_engine_at_a_time_and_a_dead_engines_lease_expires(make_root, db_url):
    root = make_root(db_url)
    stack_id = _stack(root.db)
    first, second = _worker(root), _worker(root)
    try:
        assert stack_id in first._candidates(0.0, set())
        assert first._claim(stack_id)
        assert first._claim(stack_id), 'the holder may renew'
        assert not second._claim(stack_id)
        first._release(stack_id)
        assert second._claim(stack_id)
        assert not first._claim(stack_id)
        # the holder died: once its lease is past, another engine takes over
        with root.db.writer() as session:
            session.execute(sa.update(models.Stack).values(
                lease_expires=models.utcnow() - datetime.timedelta(seconds=1)))
        assert first._claim(stack_id)
        with root.db.reader() as session:
            owner = session.execute(sa.select(models.Stack.lease_owner)).scalar_one()
        assert owner == first.engine.engine_id
    finally:
        first.close()
        second.close()


def test_racing_claims_have_exactly_one_winner(make_root, db_url):
    root = make_root(db_url)
    stack_id = _stack(root.db)
    workers = [_worker(root) for _ in range(4)]
    wins = []
    go = threading.Barrier(len(workers))

    def race(worker):
        go.wait()
        for _ in range(5):
            if worker._claim(stack_id):
                wins.append(worker.engine.engine_id)

    threads = [threading.Thread(target=race, args=(w,)) for w in workers]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert len(set(wins)) == 1, wins
    finally:
        for w in workers:
            w.close()


def dead_holder():
    """The holder id of an engine of this machine that has died."""
    proc = subprocess.Popen(['sleep', '60'])
    holder = leases.holder_id(proc.pid)
    proc.kill()
    proc.wait()
    return holder


def _hold(db, owner, seconds=3600):
    with db.writer() as session:
        session.execute(sa.update(models.Stack).values(
            lease_owner=owner,
            lease_expires=models.utcnow() + datetime.timedelta(seconds=seconds)))


def test_a_dead_engines_lease_on_this_machine_is_taken_at_once(make_root, db_url):
    root = make_root(db_url)
    stack_id = _stack(root.db)
    worker = _worker(root)
    host, machine, pid, _started, _tag = worker.engine.engine_id.rsplit(':', 4)
    live_here = leases.holder_id(os.getppid())
    restarted = '%s:%s:%s:1:abcdef' % (host, machine, pid)  # this pid, another start
    elsewhere = 'otherhost:0123456789:%s:1:abcdef' % pid
    try:
        for holder in (live_here, elsewhere, 'old-format-id'):
            _hold(root.db, holder)
            assert not worker._claim(stack_id), holder
        for holder in (dead_holder(), restarted):
            _hold(root.db, holder)
            assert worker._claim(stack_id), 'the lease of %s was not taken' % holder
    finally:
        worker.close()
