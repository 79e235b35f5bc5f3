"""The run worker: claims QUEUED runs with a lease and executes their pipeline.

A claim is one conditional UPDATE (QUEUED, or RUNNING with an expired lease ->
RUNNING owned by this engine), so two engines never execute one run at once.
While a run executes, its lease is renewed and its log copied to the database;
an engine that dies leaves a lease that expires, and another engine takes the
run over. Local runs of one trigger execute one at a time, in push order, so
deploys never overtake each other.
"""
import concurrent.futures
import datetime
import logging
import os
import shutil
import threading
import time

import sqlalchemy as sa

from solum_git.db import models
from solum_git.db import retry
from solum_git.engine import service
from solum_git import pipelines
from solum_git.pipelines import base
from solum_git.pipelines import source as source_mod

LOG = logging.getLogger(__name__)
Run = models.Run
ZERO = '0' * 40
# delivery log entries kept per run (redeliveries must not grow it without end)
MAX_DELIVERIES = 50


def _seconds(value):
    return datetime.timedelta(seconds=value)


def api_url(conf):
    if conf.api.public_url:
        return conf.api.public_url.rstrip('/')
    host = conf.api.host if conf.api.host not in ('0.0.0.0', '::') else '127.0.0.1'
    return 'http://%s:%d' % ('[%s]' % host if ':' in host else host, conf.api.port)


def _claimable(now):
    return sa.or_(
        sa.and_(Run.status == base.QUEUED,
                sa.or_(Run.next_attempt_at.is_(None), Run.next_attempt_at <= now)),
        sa.and_(Run.status == base.RUNNING, Run.lease_expires < now))


class RunWorker(service.Worker):
    name = 'runs'

    def __init__(self, engine):
        super().__init__(engine)
        self.opts = self.conf.pipelines
        self.pool = concurrent.futures.ThreadPoolExecutor(
            self.opts.workers, thread_name_prefix='solum-git-run')
        self.busy = {}  # run id -> its stop event
        self.drivers = {}
        self._lock = threading.Lock()
        self._next_app_check = 0.0

    # -- claiming

    def max_attempts(self, run_type):
        return (self.opts.max_attempts if run_type == 'local'
                else max(self.opts.retry_max_attempts, self.opts.max_attempts))

    def _blocked(self, session, run, now):
        """A local run waits for the earlier runs of its trigger (deploy order)."""
        if run.type != 'local' or run.trigger_id is None:
            return False
        return session.execute(sa.select(Run.id).where(
            Run.trigger_id == run.trigger_id, Run.id != run.id,
            sa.or_(sa.and_(Run.status == base.QUEUED, Run.id < run.id),
                   sa.and_(Run.status == base.RUNNING, Run.lease_expires >= now)))
            .limit(1)).first() is not None

    def claim(self, count):
        """Claim up to ``count`` runs; return [(run id, attempts)]."""
        now = models.utcnow()
        with self.db.reader() as session:
            candidates = session.execute(
                sa.select(Run.id, Run.type, Run.trigger_id, Run.status, Run.attempts)
                .where(_claimable(now)).order_by(Run.id).limit(count * 4 + 8)).all()
            candidates = [c for c in candidates if c.id not in self.busy
                          and not self._blocked(session, c, now)]
        claimed = []
        for c in candidates:
            if len(claimed) >= count:
                break
            if retry.on_lock(lambda: self._claim_one(c, now)):
                claimed.append((c.id, (c.attempts or 0) + 1))
        return claimed

    def _claim_one(self, c, now):
        with self.db.writer() as session:
            if c.status == base.RUNNING and c.attempts >= self.max_attempts(c.type):
                session.execute(sa.update(Run).where(
                    Run.id == c.id, _claimable(now)).values(
                        status=base.ERROR, finished_at=now, lease_owner=None,
                        lease_expires=None, status_reason='the engine running it '
                        'stopped responding %d times' % c.attempts))
                return False
            return session.execute(sa.update(Run).where(
                Run.id == c.id, _claimable(now)).values(
                    status=base.RUNNING, lease_owner=self.engine.engine_id,
                    lease_expires=now + _seconds(self.conf.engine.lease_seconds),
                    attempts=Run.attempts + 1, next_attempt_at=None,
                    started_at=sa.func.coalesce(Run.started_at, now),
                    updated_at=now)).rowcount == 1

    def check_apps(self):
        """Local apps follow their triggers: gone with them, back after a restart."""
        if time.monotonic() < self._next_app_check or 'local' not in self.opts.enabled:
            return
        self._next_app_check = time.monotonic() + self.opts.app_check_interval
        reconcile = getattr(self.driver('local'), 'reconcile', None)
        if reconcile is None:
            return
        with self.db.reader() as session:
            live = set(session.execute(sa.select(models.Trigger.uuid).where(
                models.Trigger.type == 'local')).scalars())
        reconcile(live)

    def run_once(self):
        if self.engine.stopping.is_set():
            return False
        self.check_apps()
        free = self.opts.workers - len(self.busy)
        if free <= 0:
            return False
        claimed = self.claim(free)
        for run_id, attempt in claimed:
            stop = threading.Event()
            with self._lock:
                self.busy[run_id] = stop
            self.pool.submit(self._execute, run_id, attempt, stop)
        return bool(claimed) and len(claimed) == free

    # -- executing

    def driver(self, run_type):
        if run_type not in self.opts.enabled:
            return None
        with self._lock:
            if run_type not in self.drivers:
                self.drivers[run_type] = pipelines.load(run_type, self.conf)
            return self.drivers[run_type]

    def _source(self, stack, repo_name):
        """The provisioner's local path when it has one, else SSH as the admin."""
        repo_path = getattr(self.engine.provisioner, 'repo_path', None)
        if repo_path is not None:
            path = repo_path(stack, repo_name)
            if path and os.path.isdir(path):
                return source_mod.Source(path)
        if not (stack.admin_private_key and stack.ssh_host and stack.ssh_host_keys):
            return None
        ssh = source_mod.Ssh(stack.ssh_host, stack.ssh_port, stack.ssh_user,
                             stack.admin_private_key, stack.ssh_host_keys.splitlines())
        return source_mod.Source(ssh.repo_url(repo_name), ssh.env(), ssh)

    def load_spec(self, run_id, attempt, stop):
        with self.db.reader() as session:
            found = session.execute(
                sa.select(Run, models.Push, models.Repo, models.Stack, models.Trigger)
                .join(models.Push, models.Push.id == Run.push_id)
                .join(models.Repo, models.Repo.id == models.Push.repo_id)
                .join(models.Stack, models.Stack.id == models.Repo.stack_id)
                .outerjoin(models.Trigger, models.Trigger.id == Run.trigger_id)
                .where(Run.id == run_id)).first()
            if found is None:
                return None, 'the run is gone'
            run, push, repo, stack, trigger = found
            if trigger is None:
                return None, 'its trigger was deleted'
            work_dir = os.path.join(self.conf.state_path, 'runs', run.uuid)
            log = base.RunLog(os.path.join(work_dir, 'log'), self.opts.max_log_bytes)
            if attempt > 1:
                log.note('attempt %d' % attempt)
            source = self._source(stack, repo.name) if run.type != 'solum' else None
            before = next((r['old'] for r in push.refs or [] if r['ref'] == run.ref), ZERO)
            host = '[%s]' % stack.ssh_host if ':' in (stack.ssh_host or '') else \
                stack.ssh_host
            spec = base.RunSpec(
                uuid=run.uuid, type=run.type, ref=run.ref, before=before,
                commit=run.commit, attempt=attempt,
                repo={'uuid': repo.uuid, 'name': repo.name, 'project_id': repo.project_id,
                      'default_branch': repo.default_branch,
                      'git_url': 'ssh://%s@%s:%s/%s' % (stack.ssh_user, host,
                                                        stack.ssh_port or 22, repo.name)},
                push={'uuid': push.uuid, 'push_id': push.push_id, 'pusher': push.pusher,
                      'pushed_at': push.pushed_at, 'refs': list(push.refs or [])},
                trigger={'uuid': trigger.uuid, 'config': dict(trigger.config or {}),
                         'user_id': trigger.user_id, 'branches': trigger.branches},
                source=source, work_dir=work_dir, log=log, stopping=stop,
                api_url=api_url(self.conf))
            return spec, None

    def _execute(self, run_id, attempt, stop):
        spec = None
        keeper = None
        try:
            spec, why = self.load_spec(run_id, attempt, stop)
            if spec is None:
                result = base.Result(base.ERROR, why)
            else:
                driver = self.driver(spec.type)
                if driver is None:
                    result = base.Result(base.ERROR, 'the %s pipeline is not enabled on '
                                         'this service ([pipelines] enabled)' % spec.type)
                elif spec.source is None and spec.type == 'local':
                    result = base.Result(base.ERROR, 'the git server of this repo is not '
                                         'reachable yet (no address or admin key)')
                else:
                    keeper = _Keeper(self, run_id, spec)
                    keeper.start()
                    result = driver.execute(spec)
        except Exception as e:
            LOG.exception('run %s failed', run_id)
            result = base.Result(base.ERROR, 'internal error: %s' % e)
            if spec is not None:
                spec.log.note('internal error: %s' % e)
        finally:
            if keeper is not None:
                keeper.stop()
            if spec is not None and spec.source is not None:
                spec.source.close()
        try:
            self.finish(run_id, attempt, spec, result)
        except Exception:
            LOG.exception('run %s: cannot record its result; its lease will expire and '
                          'another pass will take it over', run_id)
        finally:
            if spec is not None and spec.type != 'local':
                # only a local run's work dir is used afterwards (its app); logs are in the DB
                shutil.rmtree(spec.work_dir, ignore_errors=True)
            with self._lock:
                self.busy.pop(run_id, None)
            self.wake()

    def _backoff(self, attempt):
        return min(self.opts.retry_backoff_max,
                   self.opts.retry_backoff * 2 ** max(attempt - 1, 0))

    def finish(self, run_id, attempt, spec, result):
        now = models.utcnow()
        values = {'lease_owner': None, 'lease_expires': None, 'updated_at': now}
        if spec is not None:
            values['log'] = spec.log.text()
        status = result.status
        if self.engine.stopping.is_set() and status != base.SUCCESS:
            # cut short by our own stop: another engine (or this one, restarted) redoes it
            values.update(status=base.QUEUED, status_reason='engine stopped during the '
                          'run; queued again')
        elif status == base.RETRY and attempt < self.opts.retry_max_attempts:
            wait = self._backoff(attempt)
            values.update(status=base.QUEUED, next_attempt_at=now + _seconds(wait),
                          status_reason='%s; attempt %d of %d failed, next in %.0f s'
                          % (result.reason, attempt, self.opts.retry_max_attempts, wait))
        else:
            if status == base.RETRY:
                status = base.FAILED
                result.reason = '%s; gave up after %d attempts' % (result.reason, attempt)
            values.update(status=status, status_reason=result.reason, finished_at=now)
            if result.app_url:
                values['app_url'] = result.app_url

        def record():
            with self.db.writer() as session:
                if result.delivery is not None:
                    deliveries = session.execute(sa.select(Run.deliveries).where(
                        Run.id == run_id)).scalar() or []
                    values['deliveries'] = (list(deliveries)
                                            + [result.delivery])[-MAX_DELIVERIES:]
                session.execute(sa.update(Run).where(
                    Run.id == run_id, Run.lease_owner == self.engine.engine_id,
                    Run.status == base.RUNNING).values(**values))
        retry.on_lock(record)

    def close(self):
        with self._lock:
            stops = list(self.busy.values())
        for stop in stops:
            stop.set()
        self.pool.shutdown(wait=True)
        for driver in list(self.drivers.values()):
            try:
                driver.close()
            except Exception:
                LOG.exception('closing the %s pipeline failed', driver.name)


class _Keeper:
    """Renews a running run's lease and copies its log to the database."""

    def __init__(self, worker, run_id, spec):
        self.worker = worker
        self.run_id = run_id
        self.spec = spec
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True,
                                       name='solum-git-lease-%d' % run_id)

    def start(self):
        self.thread.start()

    def stop(self):
        self.done.set()
        self.thread.join(5)

    def _loop(self):
        worker = self.worker
        interval = min(worker.opts.log_sync_interval, worker.conf.engine.lease_seconds / 3)
        synced = -1
        while not self.done.wait(interval):
            values = {'lease_expires': models.utcnow() + _seconds(
                worker.conf.engine.lease_seconds)}
            version = self.spec.log.version
            if version != synced:
                values['log'] = self.spec.log.text()
            try:
                kept = retry.on_lock(lambda: self._renew(values))
            except Exception:
                LOG.exception('run %s: lease renewal failed; retrying', self.run_id)
                continue
            synced = version
            if not kept:
                LOG.warning('run %s: lease lost to another engine; stopping it',
                            self.run_id)
                self.spec.stopping.set()
                return

    def _renew(self, values):
        with self.worker.db.writer() as session:
            return session.execute(sa.update(Run).where(
                Run.id == self.run_id, Run.status == base.RUNNING,
                Run.lease_owner == self.worker.engine.engine_id).values(
                    **values)).rowcount
