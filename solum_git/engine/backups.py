"""The engine's backups: every push covered within ``[backup] max_lag``.

``BackupWorker`` looks at each ACTIVE stack at least every ``max_lag / 2``
seconds and soon after a push (the push notifies the engine): one
``solum-backup refs`` round trip tells which repos changed since their latest
backup; each changed one gets an increment (or a new full backup when its
chain is long or old enough), verified before its row is written. A repo
whose refs equal its latest backup's gets ``backed_up_at`` = now.
"""
import concurrent.futures
import datetime
import logging
import os
import threading
import time
from typing import Any, List, NamedTuple, Optional, Sequence, Tuple
import uuid as uuidlib

import sqlalchemy as sa

from solum_git.backups import base as store_base
from solum_git.backups import chain as chain_mod
from solum_git.common import states
from solum_git.db import models
from solum_git.db import stack_keys
from solum_git.engine import repair
from solum_git.engine import service
from solum_git.gitolite import admin
from solum_git.gitolite import ssh

LOG = logging.getLogger(__name__)
PRUNE_SECONDS = 60.0


class Survey(NamedTuple):
    """A stack's repos against their latest backups, as the server holds them."""
    stack: Any
    client: admin.AdminClient
    seen_at: datetime.datetime
    covered: List[int]                      # repo ids: the server holds their backup
    changed: List[Tuple[Any, Any, Any]]     # (repo, its refs on the server, latest link)
    looked: int                             # repos looked at


class Plan:
    """A repo's next backup: a new full one, or an increment on ``link``."""

    def __init__(self, repo: Any, link: Optional[models.Backup], full: bool):
        self.repo = repo
        self.link = link
        self.full = full
        self.bases = [] if full or link is None else sorted(set(link.refs.values()))


class BackupWorker(service.Worker):
    name = 'backups'

    def __init__(self, engine: service.Engine):
        super().__init__(engine)
        # a backups.base.Store, or None: then run_once does nothing
        self.store: Any = engine.backup_store
        self.repairer = repair.Repairer(self.conf, self.db, self.store)
        # one ssh connection per stack, reused by every bundle of a pass; a
        # long-lived pool (tethered children die with the thread that spawned them)
        self._mux = ssh.Multiplexer()
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=self.conf.backup.threads, thread_name_prefix='solum-git-backup')
        self._lock = threading.Lock()
        self._pending: set[int] = set()
        self._last: dict[int, float] = {}  # stack id -> monotonic time of its last pass
        self._last_prune = 0.0

    @property
    def interval(self) -> float:
        # a push wakes it (wake below): the look at every stack is only due every
        # max_lag / 2, so it follows the engine's poll, never slower than max_lag / 4
        return max(0.5, min(self.conf.engine.poll_interval, self.conf.backup.max_lag / 4.0))

    def wake(self, stack_id: Optional[int] = None, **kwargs: Any) -> None:
        if stack_id is not None:
            with self._lock:
                self._pending.add(stack_id)
        self._wake.set()

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self._mux.close()

    def run_once(self) -> bool:
        if self.store is None or not self.store.keeps_backups:
            return False
        self._mux.reap()
        now = time.monotonic()
        every = self.conf.backup.max_lag / 2.0
        with self.db.reader() as session:
            found = session.execute(sa.select(
                models.Stack.id, models.Stack.uuid, models.Stack.ssh_host).where(
                models.Stack.status == states.StackStatus.ACTIVE,
                # an operator's restore comes first: no backup of what it replaces
                models.Stack.restore_requested_at.is_(None),
                models.Stack.provisioner == self.engine.provisioner.name)).all()
        # the stacks the ring gives another engine are backed up by it
        rows = [r.id for r in found if self.engine.owns(r)]
        with self._lock:
            pending, self._pending = self._pending, set()
        due = [i for i in rows if i in pending or now - self._last.get(i, -1e9) >= every]
        for stack_id in due:
            if self.engine.stopping.is_set():
                break
            # woken by a push only: the repos pushed since their last backup;
            # every max_lag / 2 all of them (what changed behind solum-git's back)
            full = now - self._last.get(stack_id, -1e9) >= every
            try:
                if full:
                    self._last[stack_id] = time.monotonic()
                    # most looks find every repo covered: that needs no claim
                    if not self.look(stack_id):
                        continue
                if not self.engine.claim_stack(stack_id, waiter=self):
                    # the stack worker has it: woken when it is done (this
                    # engine's), else at the next pass
                    with self._lock:
                        self._pending.add(stack_id)
                    continue
                try:
                    self.backup_stack(stack_id, pushed_only=not full)
                finally:
                    self.engine.release_stack(stack_id)
            except Exception as e:
                LOG.warning('stack %s: backup pass failed: %s', stack_id, e,
                            exc_info=not isinstance(e, (chain_mod.BackupError,
                                                        admin.AdminError)))
        prune_every = min(PRUNE_SECONDS, self.conf.backup.max_lag)
        if time.monotonic() - self._last_prune >= prune_every:
            self._last_prune = time.monotonic()
            self.prune_deleted()
        return False

    # -- one stack ---------------------------------------------------------------
    def look(self, stack_id: int) -> bool:
        """Without the stack's claim: whether a repo of the stack holds what its
        latest backup does not (True: a backup pass is due). The covered ones
        get ``backed_up_at``: the server held exactly their backup just now."""
        seen = self._survey(stack_id, pushed_only=False)
        if seen is None:
            return False
        self._record_covered(seen.covered, seen.seen_at)
        return bool(seen.changed)

    def _survey(self, stack_id: int, pushed_only: bool) -> Optional['Survey']:
        """The stack's repos, covered or changed since their latest backup; None
        when there is nothing to look at."""
        with self.db.reader() as session:
            stack = session.get(models.Stack, stack_id)
            if stack is None or stack.status != states.StackStatus.ACTIVE \
                    or not stack.ssh_host_keys:
                return None
            stack = stack_keys.snapshot(self.engine.box, stack)
            query = sa.select(
                models.Repo.id, models.Repo.uuid, models.Repo.name, models.Repo.project_id
            ).where(models.Repo.stack_id == stack_id,
                    models.Repo.status == states.RepoStatus.ACTIVE)
            if pushed_only:
                query = query.where(sa.select(models.Push.id).where(
                    models.Push.repo_id == models.Repo.id,
                    sa.or_(models.Repo.backed_up_at.is_(None),
                           models.Push.created_at >= models.Repo.backed_up_at)).exists())
            repos = session.execute(query).all()
            latest = repair.latest_links(session, [r.uuid for r in repos])
        if not repos:
            return None
        client = admin_client(self.engine, stack, self._mux)
        seen_at = models.utcnow()
        found = chain_mod.server_refs(client, [r.name for r in repos])
        covered, changed = [], []
        for repo in repos:
            state = found.get(repo.name)
            if state is None or state.missing:
                continue   # the stack worker's drift check restores it
            link = latest.get(repo.uuid)
            if link is not None and link.refs == state.refs and not link.broken_reason:
                covered.append(repo.id)
            else:
                changed.append((repo, state, link))
        return Survey(stack, client, seen_at, covered, changed, len(repos))

    def _record_covered(self, covered, seen_at):
        if not covered:
            return
        with self.db.writer() as session:
            for i in range(0, len(covered), 500):
                session.execute(sa.update(models.Repo)
                                .where(models.Repo.id.in_(covered[i:i + 500]))
                                .values(backed_up_at=seen_at,
                                        updated_at=models.Repo.updated_at)
                                .execution_options(synchronize_session=False))

    def backup_stack(self, stack_id: int, pushed_only: bool = False) -> int:
        began = time.monotonic()
        seen = self._survey(stack_id, pushed_only)
        if seen is None:
            return 0
        stack, client, covered, changed = seen.stack, seen.client, seen.covered, seen.changed
        taken, pushes = 0, {}
        if changed:
            with self.db.reader() as session:
                pushes = self.repairer._pushes(session, [r.id for r, _s, _l in changed])
        jobs = []
        for repo, state, link in changed:
            if repair.behind(link, state, pushes.get(repo.id, [])):
                # lost behind solum-git's back (or a push whose callback is on
                # its way): a backup now could hide a loss
                LOG.warning('stack %s: repo %s lacks refs of its latest backup that no '
                            'push removed; not backed up until a push record explains '
                            'it or a stack restore', stack.uuid, repo.name)
                continue
            jobs.append((repo, state, link))
        moved = self.repairer.moved(client, [(repo, state, link, pushes.get(repo.id, []))
                                             for repo, state, link in jobs])
        for name, refs in sorted(moved.items()):
            LOG.warning('stack %s: repo %s: %s; not backed up until a push record explains '
                        'it or it is restored', stack.uuid, name, repair.moved_text(refs))
        plans = self._plans([(repo, link) for repo, _state, link in jobs
                             if repo.name not in moved])
        futures = [self._pool.submit(self.take, stack, batch)
                   for batch in repair.batches(plans, self.conf.backup.threads)]
        for job in futures:
            try:
                taken += job.result()
            except (chain_mod.BackupError, store_base.StoreError, OSError,
                    admin.AdminError) as e:
                LOG.warning('stack %s: backup of %d repos failed: %s', stack.uuid,
                            len(plans), e)
        self._record_covered(covered, seen.seen_at)
        if taken:
            LOG.info('stack %s: %d repos backed up in %.2fs (%d solum-backup sessions; '
                     '%d looked at)', stack.uuid, taken, time.monotonic() - began,
                     len(futures), seen.looked)
        return taken

    def _plans(self, jobs):
        """What each repo's next link is: a new full backup, or an increment on its latest."""
        conf = self.conf.backup
        now = models.utcnow()
        if not jobs:
            return []
        with self.db.reader() as session:
            starts = dict(session.execute(sa.select(
                models.Backup.uuid, models.Backup.created_at).where(
                    models.Backup.uuid.in_({link.chain for _r, link in jobs if link}))).all())
        plans = []
        for repo, link in jobs:
            full = (link is None or bool(link.broken_reason) or link.seq >= conf.full_every
                    or (now - starts.get(link.chain, link.created_at)).total_seconds()
                    >= conf.full_interval)
            plans.append(Plan(repo, link, full))
        return plans

    def take(self, stack: Any, plans: Sequence['Plan']) -> int:
        """One new link for each repo of ``plans``, over one ``solum-backup`` session;
        the bundles stream into the store; returns how many were taken."""
        started = models.utcnow()
        by_name = {p.repo.name: p for p in plans}
        done: list[tuple[Plan, dict]] = []

        def each(header, part):
            plan = by_name.get(header.get('repo'))
            if plan is None:
                return
            if header.get('error'):
                LOG.warning('stack %s: backup of repo %s failed: %s', stack.uuid,
                            plan.repo.name, header['error'])
                return
            try:
                done.append((plan, self._store_link(stack, plan, header, part, started)))
            except (chain_mod.BackupError, store_base.StoreError, OSError) as e:
                LOG.warning('stack %s: backup of repo %s failed: %s', stack.uuid,
                            plan.repo.name, e)
        client = admin_client(self.engine, stack, self._mux)
        chain_mod.take_bundles(client, [(p.repo.name, p.bases) for p in plans], each)
        if not done:
            return 0
        with self.db.writer() as session:
            for plan, row in done:
                repo = plan.repo
                session.add(models.Backup(
                    uuid=row['uuid'], repo_uuid=repo.uuid, repo_name=repo.name,
                    project_id=repo.project_id, stack_uuid=stack.uuid, chain=row['chain'],
                    seq=row['seq'], kind=row['kind'], refs=row['refs'], head=row['head'],
                    size_bytes=row['size_bytes'], sha256=row['sha256'], verified=True,
                    location=row['location'], store=self.store.name, created_at=started))
            ids = [plan.repo.id for plan, _row in done]
            for i in range(0, len(ids), 500):
                session.execute(sa.update(models.Repo).where(models.Repo.id.in_(ids[i:i + 500]))
                                .values(backed_up_at=started,
                                        updated_at=models.Repo.updated_at)
                                .execution_options(synchronize_session=False))
        for plan, row in done:
            LOG.info('stack %s: repo %s backed up (%s, %d bytes, chain %s link %d)',
                     stack.uuid, plan.repo.name, row['kind'], row['size_bytes'],
                     row['chain'][:8], row['seq'])
            if plan.full:
                self.retire_chains(plan.repo.uuid)
        return len(done)

    def _store_link(self, stack, plan, header, part, started):
        """The bundle streamed into the store (its sha256 checked), then its refs file
        and the pointer to the latest; the row to write."""
        repo, link = plan.repo, plan.link
        backup_uuid = str(uuidlib.uuid4())
        chain = backup_uuid if plan.full else link.chain
        seq = 0 if plan.full else link.seq + 1
        row = {'uuid': backup_uuid, 'kind': 'full' if plan.full else 'incremental',
               'chain': chain, 'seq': seq, 'head': header.get('head') or None,
               'refs': header['refs'], 'sha256': header.get('sha256'),
               'location': None, 'created_at': started.isoformat(),
               'size_bytes': header.get('size_bytes') or 0}
        if part is not None:
            row['location'] = chain_mod.location(repo.uuid, chain, seq, backup_uuid, 'bundle')
            self.store.put(stack.uuid, row['location'], part, part.size)
            why = part.mismatch(header)
            if why:
                self.store.delete(stack.uuid, row['location'])
                raise chain_mod.BackupError('the bundle is not the one sent: %s' % why)
        self.store.put_bytes(stack.uuid, chain_mod.location(
            repo.uuid, chain, seq, backup_uuid, 'refs.json'), chain_mod.refs_file(row))
        self.store.put_bytes(stack.uuid, '%s/latest.json' % repo.uuid,
                             chain_mod.refs_file(row))
        return row

    # -- retention -----------------------------------------------------------------
    def retire_chains(self, repo_uuid: str) -> None:
        """Only the newest ``keep_chains`` chains stay (with their bundles)."""
        with self.db.reader() as session:
            chains = repair.chains_of(session, repo_uuid)
        for links in chains[self.conf.backup.keep_chains:]:
            self._forget(links)

    def _forget(self, links):
        for link in links:
            for location in (link.location, chain_mod.location(
                    link.repo_uuid, link.chain, link.seq, link.uuid, 'refs.json')):
                if location:
                    try:
                        self.store.delete(link.stack_uuid, location)
                    except Exception as e:
                        LOG.warning('backup %s: cannot delete %s: %s', link.uuid,
                                    location, e)
                        return
            with self.db.writer() as session:
                session.execute(sa.delete(models.Backup).where(
                    models.Backup.id == link.id))

    def prune_deleted(self) -> None:
        """A deleted repo's backups go ``keep_deleted_days`` after its delete."""
        b = models.Backup
        now = models.utcnow()
        with self.db.writer() as session:
            # repos gone without the service marking them (an older version)
            session.execute(sa.update(b).where(
                b.repo_deleted_at.is_(None),
                b.repo_uuid.notin_(sa.select(models.Repo.uuid)))
                .values(repo_deleted_at=now).execution_options(synchronize_session=False))
        cutoff = now - datetime.timedelta(days=self.conf.backup.keep_deleted_days)
        with self.db.reader() as session:
            old = session.execute(sa.select(b).where(b.repo_deleted_at < cutoff)
                                  .order_by(b.id)).scalars().all()
        if not old:
            return
        self._forget(old)
        repos = {(link.stack_uuid, link.repo_uuid) for link in old}
        stacks = {stack_uuid for stack_uuid, _repo in repos}
        with self.db.reader() as session:
            kept = set(session.execute(sa.select(b.repo_uuid).where(
                b.repo_uuid.in_({r for _s, r in repos}))).scalars())
            live = set(session.execute(sa.select(b.stack_uuid).where(
                b.stack_uuid.in_(stacks))).scalars()) | set(session.execute(
                    sa.select(models.Stack.uuid).where(models.Stack.uuid.in_(stacks))
                ).scalars())
        try:
            for stack_uuid, repo_uuid in sorted(repos):
                if repo_uuid not in kept:
                    self.store.delete(stack_uuid, '%s/latest.json' % repo_uuid)
            # a deleted stack's place in the store (its Swift container) goes last
            for stack_uuid in sorted(stacks - live):
                self.store.forget_stack(stack_uuid)
                LOG.info('stack %s: deleted %d days ago or more; its backups are gone '
                         'from the store', stack_uuid, self.conf.backup.keep_deleted_days)
        except store_base.StoreError as e:
            LOG.warning('backups of deleted repos: %s', e)


def admin_client(engine: service.Engine, stack: Any,
                 mux: Optional[ssh.Multiplexer] = None) -> admin.AdminClient:
    return admin.AdminClient(
        os.path.join(engine.conf.state_path, 'admin', stack.uuid), stack.ssh_host,
        stack.ssh_port, stack.ssh_user, stack.admin_private_key,
        (stack.ssh_host_keys or '').splitlines(), mux=mux)
