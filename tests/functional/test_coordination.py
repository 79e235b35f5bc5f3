"""Engines split the stacks with tooz (engine/ownership.py), on the real redis of
this machine (a namespace of its own per test) and on ``file://``: one owner per
stack, rings per host, a killed member gone at once, a paused one after its
timeout and back when it wakes, locks, and the stack lease a gone member loses.
"""
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid

import pytest
import redis
import sqlalchemy as sa

from solum_git.db import models
from solum_git.engine import leases
from solum_git.engine import ownership
from solum_git.engine import service
from solum_git.engine import stacks
from tests.functional import cluster
from tests.functional import gitserver
from tests.functional import test_git_lease
from tests import helpers

HEARTBEAT = 0.5
TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(params=['redis', 'file'])
def backend(request, tmp_path):
    """A tooz URL no other test shares; its keys (redis) are removed after."""
    if request.param == 'file':
        yield 'file://%s' % (tmp_path / 'coordination')
        return
    with cluster.redis_backend() as url:
        yield url


@pytest.fixture
def members():
    started = []

    def start(url, host='h1', member_id=None):
        member = ownership.Cluster(url, member_id or leases.holder_id(), HEARTBEAT,
                                   host=host)
        member.start()
        started.append(member)
        return member
    yield start
    for member in started:
        member.stop()


@pytest.fixture
def processes():
    running = []

    def start(url, host='h1', lock=None):
        argv = [sys.executable, '-m', 'tests.functional.coord_member', url,
                str(HEARTBEAT), host] + ([lock] if lock else [])
        proc = subprocess.Popen(argv, cwd=TOP, stdout=subprocess.PIPE, text=True)
        running.append(proc)
        line = proc.stdout.readline().strip()
        assert line and line != 'lock not taken', 'member did not start: %r' % line
        return proc, line
    yield start
    for proc in running:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGCONT)
            proc.kill()
        proc.wait()
        proc.stdout.close()


def _sees(member, count):
    gitserver.wait_for(lambda: len(member.refresh()) == count, timeout=15,
                       what='%d members' % count)


def test_each_stack_has_one_owner_and_host_bound_stacks_stay_on_their_host(
        backend, members):
    a, b = members(backend, 'h1'), members(backend, 'h1')
    c = members(backend, 'h2')
    for member in (a, b, c):
        _sees(member, 3)
    keys = [str(uuid.UUID(int=i)) for i in range(300)]
    owned = {m.member_id: 0 for m in (a, b, c)}
    for key in keys:
        owners = [m for m in (a, b, c) if m.owns(key)]
        assert len(owners) == 1, key
        owned[owners[0].member_id] += 1
        # the ring of host h1: a or b, never c; of h2: only c
        assert [m for m in (a, b, c) if m.owns(key, 'h1')] in ([a], [b])
        assert [m for m in (a, b, c) if m.owns(key, 'h2')] == [c]
        # no engine of host h3: nobody takes its stacks
        assert not [m for m in (a, b, c) if m.owns(key, 'h3')]
        # every member computes the same owner
        assert a.owner(key) == b.owner(key) == c.owner(key)
    # spread: each of three gets a fair share (a third is 100)
    assert min(owned.values()) > 50, owned


def test_only_a_leaving_members_stacks_move_and_a_joining_one_takes_a_share(
        backend, members):
    a, b, c = members(backend), members(backend), members(backend)
    _sees(a, 3)
    keys = [str(uuid.UUID(int=i)) for i in range(300)]
    before = {k: a.owner(k) for k in keys}
    b.stop()
    _sees(a, 2)
    _sees(c, 2)
    after = {k: a.owner(k) for k in keys}
    assert set(after.values()) == {a.member_id, c.member_id}
    # a consistent ring: only b's stacks moved
    assert all(after[k] == before[k] for k in keys if before[k] != b.member_id)
    d = members(backend)
    _sees(a, 3)
    joined = {k: a.owner(k) for k in keys}
    moved = [k for k in keys if joined[k] != after[k]]
    assert moved and all(joined[k] == d.member_id for k in moved)
    assert all(d.owns(k) == (joined[k] == d.member_id) for k in keys)


def test_a_killed_member_is_gone_at_once(backend, members, processes):
    a = members(backend)
    proc, other = processes(backend, lock='solum-git-stack-7')
    _sees(a, 2)
    assert not a.lock('solum-git-stack-7'), 'the other member holds it'
    assert a.dead([other]) == []
    proc.kill()
    proc.wait()
    started = time.monotonic()
    # on this machine the dead process is seen at the next look, not after its timeout
    _sees(a, 1)
    assert time.monotonic() - started < 2 * HEARTBEAT + 1
    assert a.dead([other]) == [other]
    # its lock: released with the process (file) or after its timeout (redis)
    gitserver.wait_for(lambda: a.lock('solum-git-stack-7'),
                       timeout=ownership.DEAD_AFTER * HEARTBEAT + 3, what='the lock')


def test_a_paused_member_is_dropped_after_its_timeout_and_joins_again(
        backend, members, processes):
    """SIGSTOP: the process lives (leases.known_dead says alive) but stops beating."""
    a = members(backend)
    proc, other = processes(backend)
    _sees(a, 2)
    os.kill(proc.pid, signal.SIGSTOP)
    started = time.monotonic()
    _sees(a, 1)
    waited = time.monotonic() - started
    # tooz's timeout: DEAD_AFTER heartbeats (whole seconds), and one look more
    assert waited < max(1, ownership.DEAD_AFTER * HEARTBEAT) + 2 * HEARTBEAT + 1.5, waited
    assert a.dead([other]) == [other]
    os.kill(proc.pid, signal.SIGCONT)
    # it sees itself dropped and joins again
    _sees(a, 2)
    assert a.dead([other]) == []


def test_a_backend_that_lost_the_group_is_joined_anew(backend, members):
    a, b = members(backend), members(backend)
    _sees(a, 2)
    if backend.startswith('redis'):
        namespace = backend.split('namespace=', 1)[1]
        client = redis.Redis(host='127.0.0.1', port=6379)
        client.delete(*client.scan_iter(match=namespace + '*'))
        client.close()
    else:
        shutil.rmtree(os.path.join(backend[len('file://'):], 'groups'))
    # each sees the group gone at its next look, makes it and joins again
    _sees(a, 2)
    _sees(b, 2)


def test_solo_owns_everything_and_judges_by_this_machine_only():
    solo = ownership.load(_Conf(None), 'me')
    assert isinstance(solo, ownership.Solo)
    assert solo.owns('any', 'host') and solo.lock('x') and solo.size() == 1
    stranger = 'elsewhere:0000000000:1:1:abcdef'
    assert solo.dead([stranger]) == []


def test_backend_url_gets_the_member_timeout_unless_given():
    url = ownership.backend_url('redis://127.0.0.1:6379?namespace=x', 1.0)
    assert 'membership_timeout=3' in url and 'lock_timeout=3' in url
    assert 'namespace=x' in url
    url = ownership.backend_url('redis://h:6379?membership_timeout=9', 0.4)
    assert 'membership_timeout=9' in url and 'lock_timeout=2' in url
    assert ownership.backend_url('file:///tmp/x', 2.0) == 'file:///tmp/x?timeout=6'
    assert ownership.backend_url('zookeeper://h:2181', 1.0) == 'zookeeper://h:2181'


class _Conf:
    def __init__(self, url, heartbeat=HEARTBEAT):
        self.coordination = type('C', (), {'backend_url': url, 'heartbeat': heartbeat})()


# -- the stack lease, judged by the group -------------------------------------------

def test_a_gone_members_lease_is_taken_at_once_a_live_ones_kept(
        make_root, sqlite_url, backend, processes):
    root = make_root(sqlite_url, coordination={'backend_url': backend,
                                               'heartbeat': HEARTBEAT})
    stack_id = test_git_lease._stack(root.db)
    engine = service.Engine(root.conf, root.db, test_git_lease.FakeProvisioner(),
                            (stacks.StackWorker,))
    engine.ownership.start()
    try:
        proc, other = processes(backend)
        _sees(engine.ownership, 2)
        for holder in (other, leases.holder_id()):
            _hold(root, stack_id, holder)
            # a live member holds it; a live holder that never joined (as
            # solum-git-manage stopping a server) is judged as without a group
            assert not engine.claim_stack(stack_id), holder
        _hold(root, stack_id, other)
        proc.kill()
        proc.wait()
        gitserver.wait_for(lambda: engine.claim_stack(stack_id), timeout=5,
                           what='the lease of a killed member')
        with root.db.reader() as session:
            owner = session.execute(sa.select(models.Stack.lease_owner)).scalar_one()
        assert owner == engine.engine_id
        # the tooz lock is held while the lease is: a second claim of this
        # engine (the backup worker while the stack worker works) waits
        assert not engine.claim_stack(stack_id)
        engine.release_stack(stack_id)
        assert engine.claim_stack(stack_id)
        engine.release_stack(stack_id)
    finally:
        engine.workers[0].close()
        engine.ownership.stop()


def _hold(root, stack_id, holder):
    with root.db.writer() as session:
        session.execute(sa.update(models.Stack).where(models.Stack.id == stack_id).values(
            lease_owner=holder, lease_expires=models.utcnow().replace(year=2999)))


# -- runs follow their stack's owner ----------------------------------------------

def _queued_runs(db, count):
    """``count`` stacks (of host 127.0.0.1), each with one QUEUED webhook run."""
    with db.writer() as session:
        for n in range(count):
            stack = models.Stack(uuid=str(uuid.uuid4()), name='s%d' % n, project_id='p%d' % n,
                                 user_id='u', provisioner='local', status='ACTIVE',
                                 hook_secret='x', config_version=1, applied_version=1,
                                 ssh_host='127.0.0.1', ssh_port=20000 + n)
            session.add(stack)
            session.flush()
            repo = models.Repo(uuid=str(uuid.uuid4()), name='app', default_branch='main',
                               project_id=stack.project_id, user_id='u', stack_id=stack.id,
                               status='ACTIVE')
            session.add(repo)
            session.flush()
            push = models.Push(uuid=str(uuid.uuid4()), push_id='push-%d' % n,
                               stack_id=stack.id, repo_id=repo.id, pusher='u', refs=[],
                               pushed_at=models.utcnow())
            session.add(push)
            session.flush()
            session.add(models.Run(uuid=str(uuid.uuid4()), push_id=push.id, type='webhook',
                                   ref='refs/heads/main', commit='0' * 40, status='QUEUED'))


def test_runs_are_claimed_by_their_stacks_owner_and_a_dead_owners_are_taken(
        make_root, sqlite_url, tmp_path):
    from solum_git.engine import runs
    url = 'file://%s' % (tmp_path / 'coordination')
    root = make_root(sqlite_url, coordination={'backend_url': url, 'heartbeat': HEARTBEAT})
    _queued_runs(root.db, 12)
    engines = [service.Engine(root.conf, root.db, test_git_lease.FakeProvisioner(),
                              (runs.RunWorker,)) for _ in range(2)]
    try:
        for engine in engines:
            engine.ownership.start()
        for engine in engines:
            _sees(engine.ownership, 2)
        with root.db.reader() as session:
            rows = session.execute(
                sa.select(models.Run.id, models.Stack.uuid, models.Stack.ssh_host)
                .join(models.Push, models.Run.push_id == models.Push.id)
                .join(models.Stack, models.Push.stack_id == models.Stack.id)).all()
        first, second = engines
        mine = {r.id for r in rows if first.owns(r)}
        assert mine and len(mine) < len(rows), 'the ring gives each engine a share'
        assert {run_id for run_id, _attempt in first.workers[0].claim(50)} == mine
        # the other engine's runs are its own; a run claimed is not claimed again
        assert {run_id for run_id, _attempt in second.workers[0].claim(50)} == \
            {r.id for r in rows} - mine
        assert first.workers[0].claim(50) == []
        # the second engine leaves the group with its runs RUNNING (a crash):
        # the first takes them at once, not after [engine] lease_seconds
        second.ownership.stop()
        _sees(first.ownership, 1)
        taken = {run_id for run_id, attempt in first.workers[0].claim(50)}
        assert taken == {r.id for r in rows} - mine
    finally:
        for engine in engines:
            engine.workers[0].close()
            engine.ownership.stop()


class _Woken(service.Worker):
    name = 'woken'

    def __init__(self, engine):
        super().__init__(engine)
        self.woken = []

    def wake(self, stack_id=None, **kwargs):
        self.woken.append(stack_id)


def test_a_worker_refused_a_stack_its_engine_holds_is_woken_at_the_release(
        make_root, sqlite_url, backend):
    root = make_root(sqlite_url, coordination={'backend_url': backend,
                                               'heartbeat': HEARTBEAT})
    stack_id = test_git_lease._stack(root.db)
    engine = service.Engine(root.conf, root.db, test_git_lease.FakeProvisioner(),
                            (_Woken, _Woken))
    engine.ownership.start()
    try:
        holder, refused = engine.workers
        del holder.woken[:], refused.woken[:]      # the rings' first look wakes all
        assert engine.claim_stack(stack_id, waiter=holder)
        assert not engine.claim_stack(stack_id, waiter=refused)
        assert refused.woken == []
        engine.release_stack(stack_id)
        # at once, not after a poll; the holder is not woken for its own release
        assert refused.woken == [stack_id] and holder.woken == []
        assert engine.claim_stack(stack_id, waiter=refused)
        engine.release_stack(stack_id)
        assert refused.woken == [stack_id], 'woken once per refusal'
    finally:
        engine.ownership.stop()


# -- the API's view of the group (ownership.Watcher) ---------------------------------

def test_the_apis_view_names_the_engines_owner_and_none_while_the_group_changes(
        backend, members):
    a = members(backend, 'h1')
    watcher = ownership.Watcher(backend, HEARTBEAT)
    keys = [str(uuid.UUID(int=i)) for i in range(50)]
    try:
        gitserver.wait_for(lambda: watcher.owner(keys[0], 'h1') == a.member_id,
                           timeout=15, what="the API's view")
        assert watcher.owner(keys[0], 'h9') is None, 'no engine of host h9'
        b = members(backend, 'h1')
        _sees(a, 2)
        _sees(b, 2)
        # the change seen: nobody named (every engine is told) for a while...
        gitserver.wait_for(lambda: watcher.owner(keys[0], 'h1') is None,
                           timeout=2 * HEARTBEAT + 2, interval=0.02, what='the change seen')
        settled_from = time.monotonic()
        # ...then the owner the engines' rings give, for every key
        gitserver.wait_for(lambda: watcher.owner(keys[0], 'h1') is not None,
                           timeout=ownership.DEAD_AFTER * HEARTBEAT + 3, interval=0.02,
                           what='the view settled')
        assert time.monotonic() - settled_from >= ownership.DEAD_AFTER * HEARTBEAT - 0.5
        owners = [watcher.owner(k, 'h1') for k in keys]
        assert owners == [a.owner(k, 'h1') for k in keys] == [b.owner(k, 'h1') for k in keys]
        assert set(owners) == {a.member_id, b.member_id}
    finally:
        watcher.stop()


def test_the_apis_view_of_a_backend_that_does_not_answer_is_nobody_at_once():
    with helpers.closed_port() as port:
        watcher = ownership.Watcher('redis://127.0.0.1:%d' % port, HEARTBEAT)
        try:
            # its thread waits on the backend (tooz retries for a minute); a
            # cast never does
            for _ in range(20):
                started = time.monotonic()
                assert watcher.owner('any', None) is None
                assert time.monotonic() - started < 0.5
                time.sleep(0.1)
        finally:
            watcher.stop()
