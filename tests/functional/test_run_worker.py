"""Two engines on one database: every run executed once, local deploys in order,
lost runs taken over after their lease expires. SQLite, MariaDB and PostgreSQL.
"""
import datetime
import threading
import time

import sqlalchemy as sa

from solum_git.common import states
from solum_git.db import api as db_api
from solum_git.db import models
from solum_git.engine import runs as run_worker
from solum_git.engine import service as engine_service
from solum_git.pipelines import base
from solum_git.pipelines import local
from solum_git.pipelines import webhook
from tests.functional import pushenv
from tests.functional import test_git_lease
from tests.functional import test_hook_callback as callbacks


class Recorder(base.Pipeline):
    """A pipeline that only notes who ran what, when."""

    def __init__(self, conf, name, log):
        super().__init__(conf)
        self.name = name
        self.log = log

    def execute(self, spec):
        start = time.monotonic()
        time.sleep(0.03)
        self.log.append((spec.uuid, spec.type, spec.push['push_id'], start,
                         time.monotonic(), threading.current_thread().name))
        return base.Result(states.RunStatus.SUCCESS, 'recorded')


def _engine(env, url, log):
    db = db_api.Database(url)
    engine = engine_service.Engine(env.conf, db, env.servers, [run_worker.RunWorker])
    for real in (local.LocalRunner, webhook.WebhookPipeline):
        recorder = Recorder(env.conf, real.name, log)
        # the real driver's ordering (local deploys one at a time per trigger)
        # and its attempts after a lost engine
        recorder.serial_per_trigger = real.serial_per_trigger
        recorder.max_attempts = real.max_attempts
        engine.workers[0].drivers[real.name] = recorder
    return engine


def _runs(env):
    with env.db.reader() as session:
        return session.execute(sa.select(models.Run).order_by(models.Run.id)).scalars().all()


def test_two_engines_run_each_run_once_and_local_deploys_in_push_order(tmp_path, db_url):
    env = pushenv.PushEnv(tmp_path, db_url, workers=()).start(engine=False)
    engines = []
    try:
        cb = callbacks.Callback(env)
        # where the runs would check out from (the recorder does not)
        (env.servers.stack_dir(cb.stack_a.uuid) / 'app.git').mkdir(parents=True)
        cb.a.post('/v1/infrastructure/repos/%s/triggers' % cb.repo_a['uuid'], json={
            'type': 'webhook', 'config': {'url': 'http://93.184.216.34/', 'secret': 's'}})
        push_ids = []
        for n in range(10):
            push_ids.append('push-%04d' % n)
            assert cb.signed(callbacks._event(cb.stack_a.uuid, push_id=push_ids[-1])
                             ).status_code == 201
        log = []
        engines = [_engine(env, db_url, log) for _ in range(2)]
        for engine in engines:
            engine.start()
        pushenv.wait_for(lambda: all(r.status == 'SUCCESS' for r in _runs(env)),
                         timeout=60, what='all runs to end')
        runs = _runs(env)
    finally:
        for engine in engines:
            engine.stop()
            engine.db.dispose()
        env.stop()
    assert len(runs) == 20
    executed = [entry[0] for entry in log]
    assert sorted(executed) == sorted(r.uuid for r in runs), 'each run exactly once'
    assert all(r.attempts == 1 and r.lease_owner is None for r in runs)
    owners = {r.uuid: r for r in runs}
    local = [e for e in log if e[1] == 'local']
    assert [e[2] for e in sorted(local, key=lambda e: e[3])] == push_ids
    for earlier, later in zip(sorted(local, key=lambda e: e[3]),
                              sorted(local, key=lambda e: e[3])[1:]):
        assert earlier[4] <= later[3], 'two deploys of one trigger overlapped'
    assert all(owners[e[0]].type == e[1] for e in log)


def test_a_run_whose_engine_died_is_taken_over_and_given_up_after_max_attempts(
        tmp_path, sqlite_url):
    env = pushenv.PushEnv(tmp_path, sqlite_url, workers=()).start(engine=False)
    log = []
    engine = None
    try:
        cb = callbacks.Callback(env)
        (env.servers.stack_dir(cb.stack_a.uuid) / 'app.git').mkdir(parents=True)
        for push_id in ('dead-once', 'dead-thrice'):
            cb.signed(callbacks._event(cb.stack_a.uuid, push_id=push_id))
        past = models.utcnow() - datetime.timedelta(seconds=5)
        with env.db.writer() as session:
            for run, attempts in zip(_runs(env), (1, 3)):
                session.execute(sa.update(models.Run).where(models.Run.id == run.id).values(
                    status='RUNNING', lease_owner='dead-engine', lease_expires=past,
                    attempts=attempts))
        engine = _engine(env, sqlite_url, log)
        engine.start()
        pushenv.wait_for(lambda: all(r.status in ('SUCCESS', 'ERROR') for r in _runs(env)),
                         timeout=30, what='both runs to end')
        taken, lost = _runs(env)
    finally:
        if engine is not None:
            engine.stop()
            engine.db.dispose()
        env.stop()
    assert (taken.status, taken.attempts) == ('SUCCESS', 2)
    assert [e[0] for e in log] == [taken.uuid]
    assert lost.status == 'ERROR'
    assert 'stopped responding 3 times' in lost.status_reason


def test_a_run_of_a_dead_engine_on_this_machine_is_taken_over_at_once(
        tmp_path, sqlite_url):
    env = pushenv.PushEnv(tmp_path, sqlite_url, workers=()).start(engine=False)
    log = []
    engine = None
    try:
        cb = callbacks.Callback(env)
        (env.servers.stack_dir(cb.stack_a.uuid) / 'app.git').mkdir(parents=True)
        # one push, two triggers: two runs (a local run waits on its own trigger only)
        cb.a.post('/v1/infrastructure/repos/%s/triggers' % cb.repo_a['uuid'], json={
            'type': 'webhook', 'config': {'url': 'http://93.184.216.34/', 'secret': 's'}})
        cb.signed(callbacks._event(cb.stack_a.uuid, push_id='one-push'))
        later = models.utcnow() + datetime.timedelta(hours=1)
        with env.db.writer() as session:
            for run, owner in zip(_runs(env), (test_git_lease.dead_holder(),
                                               'otherhost:0123456789:1:1:abcdef')):
                session.execute(sa.update(models.Run).where(models.Run.id == run.id).values(
                    status='RUNNING', lease_owner=owner, lease_expires=later, attempts=1))
        engine = _engine(env, sqlite_url, log)
        engine.start()
        pushenv.wait_for(lambda: _runs(env)[0].status == 'SUCCESS', timeout=30,
                         what='the dead engine\'s run to be taken over')
        taken, waiting = _runs(env)
    finally:
        if engine is not None:
            engine.stop()
            engine.db.dispose()
        env.stop()
    assert (taken.status, taken.attempts) == ('SUCCESS', 2)
    assert [e[0] for e in log] == [taken.uuid]
    # another machine's engine is never judged: its lease runs its course
    assert (waiting.status, waiting.lease_owner) == ('RUNNING', 'otherhost:0123456789:1:1:abcdef')
