"""The run worker: claims QUEUED runs with a lease and executes their pipeline.

A claim is one conditional UPDATE (QUEUED, or RUNNING with an expired lease ->
RUNNING owned by this engine), so two engines never execute one run at once.
While a run executes, its lease is renewed and its log copied to the database;
an engine that dies leaves a lease that expires, and another engine takes the
run over (at once when the dead engine was on this machine, leases.py, or left
the coordination group, ownership.py). With coordination, a run is claimed by
the engine the hash ring gives its stack. Runs
of one trigger of a ``serial_per_trigger`` pipeline (local, solum) execute one at a
time, in push order, so deploys never overtake each other. What a pipeline
can do is asked of its driver (pipelines/base.py), never of its name.
"""
import concurrent.futures
import datetime
import logging
import os
import shutil
import threading
import time
from typing import Any, List, Optional, Tuple

import sqlalchemy as sa

from solum_git.common import events
from solum_git.common import gitssh
from solum_git.common import secretbox
from solum_git.common import states
from solum_git.common import urls
from solum_git.db import api as db_api
from solum_git.db import models
from solum_git.db import stack_keys
from solum_git.engine import sandbox_uids
from solum_git.engine import service
from solum_git.engine import solum_tokens
from solum_git import pipelines
from solum_git.pipelines import base
from solum_git.pipelines import source as source_mod

LOG = logging.getLogger(__name__)
RunStatus = states.RunStatus
Run = models.Run
ZERO = '0' * 40
# delivery log entries kept per run (redeliveries must not grow it without end)
MAX_DELIVERIES = 50


def _seconds(value):
    return datetime.timedelta(seconds=value)


def _claimable(now, dead=()):
    """QUEUED and due, or RUNNING under an expired lease or a dead engine's."""
    running = Run.lease_expires < now
    if dead:
        running = sa.or_(running, Run.lease_owner.in_(list(dead)))
    return sa.or_(
        sa.and_(Run.status == RunStatus.QUEUED,
                sa.or_(Run.next_attempt_at.is_(None), Run.next_attempt_at <= now)),
        sa.and_(Run.status == RunStatus.RUNNING, running))


class RunWorker(service.Worker):
    name = 'runs'

    def __init__(self, engine: service.Engine):
        super().__init__(engine)
        self.opts = self.conf.pipelines
        self.pool = concurrent.futures.ThreadPoolExecutor(
            self.opts.workers, thread_name_prefix='solum-git-run')
        self.busy: dict[int, threading.Event] = {}  # run id -> its stop event
        self.drivers: dict[str, base.Pipeline] = {}
        self._lock = threading.Lock()
        self._next_app_check = 0.0
        self._retry_due: Optional[float] = None  # monotonic time of our next retry
        self._uids: dict[str, int] = {}  # project id -> its sandbox uid (fixed once allocated)

    # -- claiming

    def capabilities(self, run_type: str) -> Any:
        """The driver of ``run_type``, or the ABC's defaults when it is not enabled."""
        return self.driver(run_type) or base.Pipeline

    def max_attempts(self, run_type: str) -> int:
        return self.capabilities(run_type).max_attempts(self.opts)

    def _blocked(self, session, run, now, dead=()):
        """A serial pipeline's run waits for the earlier runs of its trigger."""
        if not self.capabilities(run.type).serial_per_trigger or run.trigger_id is None:
            return False
        running = Run.lease_expires >= now
        if dead:
            running = sa.and_(running, Run.lease_owner.notin_(list(dead)))
        return session.execute(sa.select(Run.id).where(
            Run.trigger_id == run.trigger_id, Run.id != run.id,
            sa.or_(sa.and_(Run.status == RunStatus.QUEUED, Run.id < run.id),
                   sa.and_(Run.status == RunStatus.RUNNING, running)))
            .limit(1)).first() is not None

    def claim(self, count: int) -> List[Tuple[int, int]]:
        """Claim up to ``count`` runs; return [(run id, attempts)].

        One statement finds both the claimable runs and those RUNNING under
        another engine's lease: whether that engine died (gone from the group,
        or from this machine) is asked of the ownership, and its runs are taken
        over now. The limit leaves room for the runs live engines hold (at most
        ``[pipelines] workers`` each).
        """
        now = models.utcnow()
        ownership = self.engine.ownership
        held = sa.and_(Run.status == RunStatus.RUNNING, Run.lease_expires >= now,
                       Run.lease_owner != self.engine.engine_id)
        with self.db.reader() as session:
            # a run is the work of its stack's owner on the ring (a local run
            # reads its repo on the stack's host)
            rows = session.execute(
                sa.select(Run.id, Run.type, Run.trigger_id, Run.status, Run.attempts,
                          Run.lease_owner, held.label('held'),
                          models.Stack.uuid, models.Stack.ssh_host)
                .join(models.Push, Run.push_id == models.Push.id)
                .join(models.Stack, models.Push.stack_id == models.Stack.id)
                .where(sa.or_(_claimable(now), held)).order_by(Run.id)
                .limit((count * 4 + 8 + self.opts.workers) * ownership.size())).all()
            dead = ownership.dead({r.lease_owner for r in rows if r.held})
            candidates = [c for c in rows if (not c.held or c.lease_owner in dead)
                          and c.id not in self.busy and self.engine.owns(c)
                          and not self._blocked(session, c, now, dead)]
        claimed: List[Tuple[int, int]] = []
        for c in candidates:
            if len(claimed) >= count:
                break
            if self._claim_one(c, now, dead):
                claimed.append((c.id, (c.attempts or 0) + 1))
        return claimed

    @db_api.retry_on_lock
    def _claim_one(self, c, now, dead=()):
        with self.db.writer() as session:
            if c.status == RunStatus.RUNNING and c.attempts >= self.max_attempts(c.type):
                if session.execute(sa.update(Run).where(
                        Run.id == c.id, _claimable(now, dead)).values(
                            status=RunStatus.ERROR, finished_at=now, lease_owner=None,
                            lease_expires=None, status_reason='the engine running it '
                            'stopped responding %d times' % c.attempts)).rowcount:
                    _tell(session, events.RUN_END, c.id, c.attempts)
                return False
            claimed = session.execute(sa.update(Run).where(
                Run.id == c.id, _claimable(now, dead)).values(
                    status=RunStatus.RUNNING, lease_owner=self.engine.engine_id,
                    lease_expires=now + _seconds(self.conf.engine.lease_seconds),
                    attempts=Run.attempts + 1, next_attempt_at=None,
                    started_at=sa.func.coalesce(Run.started_at, now),
                    updated_at=now)).rowcount == 1
            if claimed:
                _tell(session, events.RUN_START, c.id, (c.attempts or 0) + 1)
            return claimed

    def check_apps(self) -> None:
        """Apps follow their triggers: gone with them, back after a restart."""
        if time.monotonic() < self._next_app_check:
            return
        self._next_app_check = time.monotonic() + self.opts.app_check_interval
        for run_type in self.opts.enabled:
            driver = self.driver(run_type)
            if driver is None or not driver.runs_apps:
                continue
            with self.db.reader() as session:
                rows = session.execute(
                    sa.select(models.Trigger.uuid, models.Repo.project_id)
                    .join(models.Repo, models.Repo.id == models.Trigger.repo_id)
                    .where(models.Trigger.type == run_type)).all()
            driver.reconcile({row.uuid: self.sandbox_uid(row.project_id) for row in rows})

    def sandbox_uid(self, project_id: str) -> int:
        """The project's own uid for its local commands (allocated on first use)."""
        uid = self._uids.get(project_id)
        if uid is None:
            uid = self._uids[project_id] = sandbox_uids.uid_for(
                self.db, self.conf.sandbox, project_id)
        return uid

    def wait_seconds(self) -> float:
        now = time.monotonic()
        with self._lock:
            if self._retry_due is not None and self._retry_due <= now:
                self._retry_due = None      # the pass just made took it
            due = [when for when in (self._next_app_check, self._retry_due)
                   if when is not None and when > now]
        # a little after: the database's clock decides when a retry is claimable
        return min([self.interval] + [when - now + 0.05 for when in due])

    def run_once(self) -> bool:
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

    def driver(self, run_type: str) -> Optional[base.Pipeline]:
        if run_type not in self.opts.enabled:
            return None
        with self._lock:
            if run_type not in self.drivers:
                self.drivers[run_type] = pipelines.load(run_type, self.conf)
            return self.drivers[run_type]

    def _source(self, stack, repo_name):
        """The provisioner's local path when it has one, else SSH as the admin."""
        path = self.engine.provisioner.repo_path(stack, repo_name)
        if path and os.path.isdir(path):
            return source_mod.Source(path)
        ssh = gitssh.Ssh.for_stack(stack_keys.snapshot(self.engine.box, stack))
        if ssh is None:
            return None
        return source_mod.Source(ssh.repo_url(repo_name), ssh.env(), ssh)

    def load_spec(self, run_id: int, attempt: int,
                  stop: threading.Event) -> Tuple[Optional[base.RunSpec], Optional[str]]:
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
            rollback = _rollback_target(session, run)
            log = base.RunLog(os.path.join(work_dir, 'log'), self.opts.max_log_bytes)
            if attempt > 1:
                log.note('attempt %d' % attempt)
            driver = self.capabilities(run.type)
            source = self._source(stack, repo.name) if driver.uses_source else None
            before = next((r['old'] for r in push.refs or [] if r['ref'] == run.ref), ZERO)
            config = dict(trigger.config or {})
            sealed = config.pop('secrets', None) or {}
            spec = base.RunSpec(
                uuid=run.uuid, type=run.type, ref=run.ref, before=before,
                commit=run.commit, attempt=attempt,
                repo={'uuid': repo.uuid, 'name': repo.name, 'project_id': repo.project_id,
                      'default_branch': repo.default_branch,
                      'git_url': urls.git_url(stack.ssh_user, stack.ssh_host or '',
                                              stack.ssh_port, repo.name)},
                push={'uuid': push.uuid, 'push_id': push.push_id, 'pusher': push.pusher,
                      'pushed_at': push.pushed_at, 'refs': list(push.refs or [])},
                trigger={'uuid': trigger.uuid, 'config': config,
                         'user_id': trigger.user_id, 'branches': trigger.branches,
                         'trust_id': trigger.trust_id},
                source=source, work_dir=work_dir, log=log, stopping=stop,
                api_url=urls.api_url(self.conf), rollback=rollback)
            spec.trigger['config_version'] = trigger.config_version
        try:
            spec.secrets = secretbox.open_all(self.conf, sealed)
        except (secretbox.NoKey, secretbox.Undecryptable) as e:
            log.note('config.secrets: %s' % e)
            if spec.source is not None:
                spec.source.close()
            return None, 'config.secrets: %s' % e
        log.mask(spec.secrets.values())
        if trigger.deploy_token_id:
            # a solum trigger's token, rotated when due (engine/solum_tokens.py)
            spec.trigger['source_url'], rotated = solum_tokens.source_url(
                self.db, self.conf, run.trigger_id)
            if rotated is not None:
                self.engine.notify(rotated)
        if driver.sandboxed:
            try:
                spec.sandbox_uid = self.sandbox_uid(spec.repo['project_id'])
            except sandbox_uids.NoFreeUid as e:
                log.note(str(e))
                if spec.source is not None:
                    spec.source.close()
                return None, str(e)
        return spec, None

    def _execute(self, run_id, attempt, stop):
        spec = None
        keeper = None
        try:
            spec, why = self.load_spec(run_id, attempt, stop)
            if spec is None:
                result = base.Result(RunStatus.ERROR, why)
            else:
                driver = self.driver(spec.type)
                if driver is None:
                    result = base.Result(RunStatus.ERROR, 'the %s pipeline is not enabled on '
                                         'this service ([pipelines] enabled)' % spec.type)
                elif spec.source is None and driver.needs_source:
                    result = base.Result(RunStatus.ERROR, 'the git server of this repo is not '
                                         'reachable yet (no address or admin key)')
                else:
                    keeper = _Keeper(self, run_id, spec)
                    keeper.start()
                    result = driver.execute(spec)
        except Exception as e:
            LOG.exception('run %s failed', run_id)
            result = base.Result(RunStatus.ERROR, 'internal error: %s' % e)
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
            if spec is not None and not self.capabilities(spec.type).keeps_work_dir:
                # logs are in the DB; a kept work dir is used afterwards (its app)
                shutil.rmtree(spec.work_dir, ignore_errors=True)
            with self._lock:
                self.busy.pop(run_id, None)
            self.wake()

    def _backoff(self, attempt):
        return min(self.opts.retry_backoff_max,
                   self.opts.retry_backoff * 2 ** max(attempt - 1, 0))

    def finish(self, run_id: int, attempt: int, spec: Optional[base.RunSpec],
               result: base.Result) -> None:
        now = models.utcnow()
        values = {'lease_owner': None, 'lease_expires': None, 'updated_at': now}
        if spec is not None:
            values['log'] = spec.log.text()
        status = result.status
        if self.engine.stopping.is_set() and status != RunStatus.SUCCESS:
            # cut short by our own stop: another engine (or this one, restarted) redoes it
            values.update(status=RunStatus.QUEUED, status_reason='engine stopped during the '
                          'run; queued again')
        elif status == RunStatus.RETRY and attempt < self.opts.retry_max_attempts:
            wait = self._backoff(attempt)
            with self._lock:
                when = time.monotonic() + wait
                if self._retry_due is None or when < self._retry_due:
                    self._retry_due = when
            values.update(status=RunStatus.QUEUED, next_attempt_at=now + _seconds(wait),
                          status_reason='%s; attempt %d of %d failed, next in %.0f s'
                          % (result.reason, attempt, self.opts.retry_max_attempts, wait))
        else:
            if status == RunStatus.RETRY:
                status = RunStatus.FAILED
                result.reason = '%s; gave up after %d attempts' % (result.reason, attempt)
            values.update(status=status, status_reason=result.reason, finished_at=now)
            if result.app_url:
                values['app_url'] = result.app_url
            if spec is not None:
                values['config_version'] = spec.trigger.get('config_version')

        @db_api.retry_on_lock
        def record():
            with self.db.writer() as session:
                if result.delivery is not None:
                    deliveries = session.execute(sa.select(Run.deliveries).where(
                        Run.id == run_id)).scalar() or []
                    values['deliveries'] = (list(deliveries)
                                            + [result.delivery])[-MAX_DELIVERIES:]
                if (values.get('status') == RunStatus.SUCCESS and result.app_url
                        and spec is not None and self.capabilities(spec.type).runs_apps):
                    _number_release(session, run_id, values)
                ended = session.execute(sa.update(Run).where(
                    Run.id == run_id, Run.lease_owner == self.engine.engine_id,
                    Run.status == RunStatus.RUNNING).values(**values)).rowcount
                if ended and values['status'] in states.RUN_FINAL:
                    _tell(session, events.RUN_END, run_id, attempt)
        record()

    def close(self) -> None:
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


def _tell(session: Any, action: str, run_id: int, attempt: int) -> None:
    """The run's news (run.start, run.end) as this transaction has it, told at its commit."""
    found = session.execute(
        sa.select(Run.uuid, Run.type, Run.ref, Run.commit, Run.status, Run.status_reason,
                  models.Push.uuid.label('push_uuid'), models.Repo.uuid.label('repo_uuid'),
                  models.Repo.project_id, models.Trigger.uuid.label('trigger_uuid'))
        .join(models.Push, models.Push.id == Run.push_id)
        .join(models.Repo, models.Repo.id == models.Push.repo_id)
        .outerjoin(models.Trigger, models.Trigger.id == Run.trigger_id)
        .where(Run.id == run_id)).first()
    if found is not None:
        db_api.tell(session, events.news(
            action, 'repo', found.repo_uuid, found.project_id, run_uuid=found.uuid,
            push_uuid=found.push_uuid, trigger_uuid=found.trigger_uuid, type=found.type,
            ref=found.ref, commit=found.commit, attempt=attempt, status=found.status,
            status_reason=found.status_reason))


def _rollback_target(session, run):
    """{'run_uuid', 'release', 'commit', 'serving'} of the release a rollback run
    serves again."""
    if not run.rollback_of:
        return None
    target = session.execute(sa.select(Run.uuid, Run.release, Run.commit).where(
        Run.uuid == run.rollback_of)).first()
    if target is None:
        return {'run_uuid': run.rollback_of, 'release': None, 'commit': run.commit,
                'serving': False}
    newest = session.execute(sa.select(sa.func.max(Run.release)).where(
        Run.trigger_id == run.trigger_id)).scalar()
    # the serving release itself: a redeploy (new config), not a step back
    return {'run_uuid': target.uuid, 'release': target.release, 'commit': target.commit,
            'serving': target.release is not None and target.release == newest}


def _number_release(session, run_id, values):
    """A deploy that serves is its trigger's next release; its reason says how to
    go back to the release before it."""
    trigger_id = session.execute(sa.select(Run.trigger_id).where(Run.id == run_id)).scalar()
    if trigger_id is None:
        return
    # a redelivered release is deployed anew: a new number, and the hint names another run
    newest = session.execute(sa.select(sa.func.max(Run.release)).where(
        Run.trigger_id == trigger_id)).scalar()
    previous = session.execute(
        sa.select(Run.uuid, Run.release).where(Run.trigger_id == trigger_id,
                                               Run.release.isnot(None), Run.id != run_id)
        .order_by(Run.release.desc()).limit(1)).first()
    number = (newest or 0) + 1
    values['release'] = number
    reason = '%s as release %d' % (values.get('status_reason') or 'deployed', number)
    if previous is not None:
        reason += (' (to roll back to release %d: solum-git rollback %s)'
                   % (previous.release, previous.uuid))
    values['status_reason'] = reason


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
                kept = self._renew(values)
            except Exception:
                LOG.exception('run %s: lease renewal failed; retrying', self.run_id)
                continue
            synced = version
            if not kept:
                LOG.warning('run %s: lease lost to another engine; stopping it',
                            self.run_id)
                self.spec.stopping.set()
                return

    @db_api.retry_on_lock
    def _renew(self, values):
        with self.worker.db.writer() as session:
            return session.execute(sa.update(Run).where(
                Run.id == self.run_id, Run.status == RunStatus.RUNNING,
                Run.lease_owner == self.worker.engine.engine_id).values(
                    **values)).rowcount
