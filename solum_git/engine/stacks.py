"""The stack worker: makes each tenant git server match the database.

For each stack that needs it (a pending config_version, BUILDING, DELETING,
ERROR, due for a drift check, or its sshd died) the worker takes the stack's
lease, makes sure the server exists and answers, renders gitolite.conf and
keydir from the database and pushes gitolite-admin once (so every change made
since the last push is applied together), removes repos the database no longer
has, and records applied_version. Every step is idempotent: after a crash at any
point the next pass finishes the job.
"""
import concurrent.futures
import logging
import os
import shutil
import threading
import time
import types
from typing import Any, Optional

import sqlalchemy as sa

from solum_git.common import events
from solum_git.common import quotas
from solum_git.common import states
from solum_git.common import urls
from solum_git.db import api as db_api
from solum_git.db import models
from solum_git.db import stack_keys
from solum_git.engine import credentials
from solum_git.engine import renames
from solum_git.engine import repair
from solum_git.engine import retries
from solum_git.engine import service
from solum_git.gitolite import admin
from solum_git.gitolite import render
from solum_git.gitolite import ssh
from solum_git.provisioners import hostkeys
from solum_git.server import names
from solum_git.server import package

LOG = logging.getLogger(__name__)

StackStatus, RepoStatus = states.StackStatus, states.RepoStatus
ServerStatus = states.ServerStatus
# how often the whole stack table is scanned for drift checks
SCAN_SECONDS = 5.0
# a server still being built is looked at again after this long
BUILD_POLL_SECONDS = 3.0
MAX_BACKOFF = 60.0


def _tell(session, action, stack, status, reason):
    """The stack's news (stack.active, stack.error, stack.delete.end), told at the commit."""
    db_api.tell(session, events.news(action, 'stack', stack.uuid, stack.project_id,
                                     provisioner=stack.provisioner, status=status,
                                     status_reason=reason))


class StackWorker(service.Worker):
    name = 'stacks'

    def __init__(self, engine: service.Engine):
        super().__init__(engine)
        self.provisioner = engine.provisioner
        self.threads = self.conf.engine.stack_threads
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=self.threads, thread_name_prefix='solum-git-stack')
        self._lock = threading.Lock()
        self._busy: set[int] = set()          # stack ids being worked on in this process
        self._checked: dict[int, float] = {}  # stack id -> monotonic time of the last drift check
        self._not_before: dict[int, float] = {}  # stack id -> monotonic time before which to wait
        self._failures: dict[int, int] = {}   # stack id -> consecutive failures (backoff)
        # stack id -> the resync count a server start was for
        self._restarted_for: dict[int, int] = {}
        self._dead_servers: set[str] = set()  # stack uuids whose server process died
        self._repair_owed: set[int] = set()   # stack ids whose server died and is not up yet
        self._retries = retries.RepoRetries()
        self._repo_due: dict[int, float] = {}  # stack id -> when one of its repos in ERROR is due
        self._last_scan = 0.0
        self._asked = True          # a look at the database is wanted
        self._looked = -1e9         # monotonic time of the last look
        self._due: set[int] = set()
        # stack id -> (id, uuid, ssh_host) from the last look: whose it is on the ring
        self._where: dict[int, Any] = {}
        self._mux = ssh.Multiplexer()
        self._repairer = repair.Repairer(self.conf, self.db, engine.backup_store)

    @property
    def admin_root(self) -> str:
        return os.path.join(self.conf.state_path, 'admin')

    def wake(self, stack_id: Optional[int] = None, resync: bool = False,
             **kwargs: Any) -> None:
        # a resync is asked in the stack's row (resync_requested), not here
        with self._lock:
            self._asked = True
            if stack_id is not None:
                self._not_before.pop(stack_id, None)
        super().wake()

    def _times(self):
        """When stacks are due again (a retry, a server being built); under _lock."""
        return list(self._not_before.values()) + [
            w for w in self._repo_due.values() if w is not None]

    def wait_seconds(self) -> float:
        now = time.monotonic()
        with self._lock:
            due = [when for when in self._times() if when > now]
        # the provisioner's look at its servers' processes comes between looks
        # at the database (run_once): no statement for it
        reap = [self.provisioner.reap_seconds] if self.provisioner.reap_seconds else []
        return min([self.interval] + reap + [when - now + 0.01 for when in due])

    # -- one pass -----------------------------------------------------------------
    def run_once(self) -> bool:
        dead = self.provisioner.reap()
        self._dead_servers.update(dead)
        self._mux.reap()
        now = time.monotonic()
        with self._lock:
            if dead:
                self._asked = True      # a server died: its stack is looked at
            free = self.threads - len(self._busy)
            busy = set(self._busy)
            if free <= 0:
                return False
            # the database is looked at when asked (a wake, a stack done, a
            # server that died), at the poll, or for a stack due since the last
            # look; a pass for the provisioner's look alone stops here
            due = any(self._looked < when <= now for when in self._times())
            if not (self._asked or due or now >= self._looked + self.interval):
                return False
            self._asked, self._looked = False, now
        for stack_id in self._candidates(now, busy)[:free]:
            if not self._claim(stack_id):
                continue
            with self._lock:
                self._busy.add(stack_id)
            self._pool.submit(self._work, stack_id)
        return False

    def _candidates(self, now, busy):
        """Stack ids worth a look, most urgent first.

        One statement per pass: the stacks with work pending or, when the drift
        scan is due (every ``SCAN_SECONDS``, never more often than the poll),
        every stack of this provisioner, each with whether work is pending and
        whether one of its repos is in ERROR.
        """
        stack = models.Stack
        pending = sa.or_(stack.applied_version < stack.config_version,
                         stack.resync_done < stack.resync_requested,
                         stack.status.in_([StackStatus.BUILDING, StackStatus.DELETING]))
        where = sa.select(stack.id, stack.uuid, stack.ssh_host).where(
            stack.provisioner == self.provisioner.name).order_by(stack.id)
        # a pass woken at the poll's end comes a hair early for a scan of the same period
        scan = (now - self._last_scan >= max(SCAN_SECONDS, self.interval) - 0.05
                or self._dead_servers)
        with self.db.reader() as session:
            if not scan:
                pending_rows = session.execute(where.where(pending)).all()
            else:
                self._last_scan = now
                erroring = sa.exists().where(models.Repo.stack_id == stack.id,
                                             models.Repo.status == RepoStatus.ERROR)
                rows = session.execute(where.add_columns(
                    pending.label('pending'), erroring.label('erroring'))).all()
                pending_rows = [r for r in rows if r.pending]
                interval = self.conf.engine.resync_interval
                with self._lock:
                    self._where = {r.id: r for r in rows}
                    self._due = {r.id for r in rows
                                 if now - self._checked.get(r.id, -1e9) >= interval
                                 or r.uuid in self._dead_servers}
                    # repos another engine (or this one before a restart) left in ERROR
                    for r in rows:
                        if r.erroring:
                            self._repo_due.setdefault(r.id, now)
        with self._lock:
            self._where.update((r.id, r) for r in pending_rows)
            retry = {i for i, when in self._repo_due.items()
                     if when is not None and when <= now}
            wanted = [r.id for r in pending_rows] + sorted(self._due | retry)
            ready = []
            for stack_id in wanted:
                if stack_id in busy or stack_id in ready:
                    continue
                if self._not_before.get(stack_id, 0) > now:
                    continue
                # another engine's on the ring (coordination): it does this one
                where_row = self._where.get(stack_id)
                if where_row is None or not self.engine.owns(where_row):
                    continue
                ready.append(stack_id)
        return ready

    def _claim(self, stack_id):
        """Take the stack's lock and lease, unless another live engine holds them."""
        return self.engine.claim_stack(stack_id, waiter=self)

    def _release(self, stack_id):
        self.engine.release_stack(stack_id)

    def _work(self, stack_id):
        try:
            self.converge(stack_id)
            with self._lock:
                self._failures.pop(stack_id, None)
        except Exception as e:
            with self._lock:
                failures = self._failures.get(stack_id, 0) + 1
                self._failures[stack_id] = failures
                delay = min(MAX_BACKOFF, 0.5 * 2 ** failures)
                self._not_before[stack_id] = time.monotonic() + delay
            if self.engine.stopping.is_set():
                return
            LOG.warning('stack %s: %s (retry in %.1fs)', stack_id, e, delay,
                        exc_info=not isinstance(e, (admin.AdminError, _ServerError)))
            try:
                self._set_error(stack_id, str(e))
            except Exception:
                LOG.exception('stack %s: could not record the error', stack_id)
        finally:
            try:
                self._release(stack_id)
            except Exception:
                LOG.exception('stack %s: could not release the lease', stack_id)
            with self._lock:
                self._busy.discard(stack_id)
            self.wake()

    def _snapshot(self, row):
        return stack_keys.snapshot(self.engine.box, row)

    # -- converging one stack --------------------------------------------------------
    def converge(self, stack_id: int) -> None:
        with self.db.reader() as session:
            row = session.get(models.Stack, stack_id)
            if row is None:
                return
            stack = self._snapshot(row)
        if stack.status == StackStatus.DELETING:
            return self._delete(stack)
        asked = stack.resync_requested      # requests made after this are for a next pass
        explicit = stack.resync_done < asked
        with self._lock:
            dead = stack.uuid in self._dead_servers
            self._dead_servers.discard(stack.uuid)
        started = time.monotonic()
        due = started - self._checked.get(stack_id, -1e9) >= self.conf.engine.resync_interval
        stack = self._ensure_admin_key(stack)
        stack = self._ensure_host_key(stack)
        stack = self._ensure_http_port(stack)
        settings = self._settings(stack)

        if stack.status in (StackStatus.BUILDING, StackStatus.ERROR) and (
                stack.applied_version < stack.config_version or explicit or due):
            self.provisioner.create(stack, settings)
        state = self.provisioner.check(stack)
        if state.status == ServerStatus.BUILDING:
            # once per resync request: the intent stays pending while the server
            # starts, and a second start would not find the first one's sshd
            once = explicit and self._restarted_for.get(stack_id) != asked
            if stack.status == StackStatus.ACTIVE and (once or due or dead):
                self._restarted_for[stack_id] = asked
                self.provisioner.create(stack, settings)
                state = self.provisioner.check(stack)
        if state.status in (ServerStatus.BUILDING, ServerStatus.STOPPED):
            # an operator's stop: changes wait for the server to be started again
            self._not_before[stack_id] = time.monotonic() + BUILD_POLL_SECONDS
            if dead:
                # the server restarted for it is not up yet: the repair its death
                # calls for is owed to the pass that finds it up
                self._repair_owed.add(stack_id)
            self._record_server(stack, state, status=None)
            return
        if state.status != ServerStatus.ACTIVE:
            raise _ServerError(state.reason or 'server is %s' % state.status)
        stack = self._record_server(stack, state, status=None)
        stack = self._ensure_tls(stack)

        owed = stack_id in self._repair_owed
        thorough = explicit or due or dead or owed or stack.status != StackStatus.ACTIVE
        if thorough:
            self.provisioner.repair(stack, settings, deep=explicit)
        self._apply(stack, thorough, retry_all=explicit)
        self._repair_owed.discard(stack_id)
        with self._lock:
            if thorough:
                self._checked[stack_id] = started
                self._due.discard(stack_id)
        if explicit:
            self._record_resync(stack, asked)

    def _record_resync(self, stack, asked):
        """The requests seen at the start are done; one made since stays pending."""
        with self.db.writer() as session:
            session.execute(sa.update(models.Stack).where(
                models.Stack.id == stack.id, models.Stack.resync_done < asked,
            ).values(resync_done=asked))
        LOG.info('stack %s: resync %d done', stack.uuid, asked)
        # the spool flusher asks the server for pushes it kept (flush.py)
        self.engine.notify(stack.id, resync=True)

    def _apply(self, stack, thorough, retry_all=False):
        """One pass: the server gets the database's config, repo by repo.

        A repo the server cannot make (or gitolite refuses) goes to ERROR with
        the reason and is left out of the conf; everything else still applies,
        access removals first: repos already in ERROR are tried again (with
        backoff) only after the push that carries the other changes.
        """
        started = time.monotonic()
        desired = self._render(stack)
        rendered_at = time.monotonic()
        client = self._client(stack)
        check = None
        fetch = False
        if thorough:
            check = self._check(client, stack)
            fetch = check.head != client.local_head()
        failed = dict(desired.unsafe)       # repo name -> why it is not served
        try:
            return self._apply_repos(stack, desired, client, check, fetch, thorough,
                                     retry_all, failed, started, rendered_at)
        finally:
            self._record_failed(stack, desired, failed)

    def _apply_repos(self, stack, desired, client, check, fetch, thorough, retry_all,
                     failed, started, rendered_at):
        version = desired.version
        by_name = {r.name: r for r in desired.repos}
        # renamed repos first: nothing below may take a name still to move away
        unmoved, blocked = self._move(stack, client, desired, check, failed)
        # made here (idempotent, by uuid), not by gitolite's compile; in a
        # thorough pass also served repos gone from the server's disk
        new = [r for r in desired.safe
               if r.status not in (RepoStatus.ACTIVE, RepoStatus.ERROR)
               or (check is not None and r.status == RepoStatus.ACTIVE
                   and r.name not in check.repos)]
        new = [r for r in new if r.name not in blocked]
        in_error = [r for r in desired.safe if r.status == RepoStatus.ERROR]
        now = time.monotonic()
        due = [r for r in in_error
               if (retry_all or self._retries.due(r.id, r.default_branch, now))
               and r.name not in blocked]
        tried = {r.id for r in due}
        # before anything is made: a repo that lost its data is restored from
        # its backup, or refused (ERROR, what was lost named), never made empty
        look = new + due
        restore_all = thorough and stack.restore_requested_at is not None
        if check is not None:
            look += [r for r in desired.safe
                     if r.status == RepoStatus.ACTIVE and r.name in check.repos]
        restored, lost = self._repairer.repair(stack, client, look, restore_all=restore_all)
        failed.update(lost)
        new = [r for r in new if r.name not in lost]
        due = [r for r in due if r.name not in lost]
        if new:
            failed.update(client.create_repos(_triples(new)))
        pushing = time.monotonic()
        left_out = set(failed) | {r.name for r in in_error}
        rendered, result = self._push(client, desired, left_out, failed,
                                      fetch=fetch)
        pushed = time.monotonic()
        removed = set(result.removed)
        if due:
            # after the push above: a broken repo never holds up other changes
            failures = client.create_repos(_triples(due))
            failed.update(failures)
            if len(failures) < len(due):
                left_out = set(failed) | {r.name for r in in_error if r.id not in tried}
                rendered, again = self._push(client, desired, left_out, failed)
                removed |= set(again.removed)
        if not thorough and not result.pushed and version > stack.applied_version:
            # a bump that changes nothing: a new default branch (not in the conf)
            check = self._check(client, stack)
        stale = set()
        if check is not None:
            stale = check.repos - set(by_name) - {render.ADMIN_REPO}
            made = {r.name for r in new}
            heads = {name: by_name[name].default_branch for name in rendered.repos
                     if name in check.heads and name not in made
                     and check.heads[name] != 'refs/heads/%s' % by_name[name].default_branch}
            if heads:
                failed.update(client.set_heads(heads))
        # only repos the database no longer has: one left out of the conf keeps its data
        remove = (removed | stale) - set(by_name) - set(unmoved)
        if remove:
            LOG.info('stack %s: removing repos %s', stack.uuid, ', '.join(sorted(remove)))
            client.remove_repos(remove)
        served = {by_name[name].id for name in rendered.repos if name not in failed}
        self._record_applied(stack, version, sorted(
            r.id for r in desired.safe if r.id in served and r.status != RepoStatus.ACTIVE))
        self._record_restored(stack, by_name, restored, served, restore_all)
        self._schedule_retries(stack, desired, failed, served, tried)
        if failed:
            LOG.warning('stack %s: repos not served: %s', stack.uuid,
                        '; '.join('%s (%s)' % item for item in sorted(failed.items())))
        if result.pushed or thorough:
            LOG.info('stack %s: config version %d applied (%d repos%s%s) in %.2fs: '
                     'render %.2fs, push %.2fs', stack.uuid, version, len(rendered.repos),
                     ', pushed' if result.pushed else '', ', checked' if thorough else '',
                     time.monotonic() - started, rendered_at - started, pushed - pushing)

    def _move(self, stack, client, desired, check, failed):
        """Move renamed repos' directories: the old names still to move ({old: why})
        and the repo names nothing may make on the disk until they are."""
        done, unmoved = renames.apply(client, [m for m in desired.renames.moves
                                               if m[2] in {r.name for r in desired.safe}])
        if done:
            with self.db.writer() as session:
                renames.record(session, done)
            LOG.info('stack %s: moved %d renamed repos', stack.uuid, len(done))
        if check is not None:
            for _id, old, new, _uuid in desired.renames.moves:
                if old in check.repos and old not in unmoved:
                    check.repos.discard(old)
                    check.repos.add(new)
                    check.heads[new] = check.heads.pop(old, '-')
        blocked = set()
        live = {r.name for r in desired.repos}
        for old, why in unmoved.items():
            # its repo (under the new name) waits; a new repo of the old name too
            for _id, o, new, _uuid in desired.renames.moves:
                if o == old:
                    blocked.add(new)
                    failed.setdefault(new, 'not moved from %s yet: %s' % (old, why))
            if old in live:
                blocked.add(old)
                failed.setdefault(old, 'waits for the renamed repo %s to move away' % old)
        return unmoved, blocked

    def _schedule_retries(self, stack, desired, failed, served, tried):
        """Back off the repos that failed; the stack's next pass for those in ERROR."""
        now = time.monotonic()
        waiting = []
        for r in desired.safe:
            if r.name in failed:
                self._retries.failed(r.id, r.default_branch, now)
                waiting.append(r.id)
            elif r.id in served:
                if r.status != RepoStatus.ACTIVE:
                    self._retries.succeeded(r.id)
            elif r.status == RepoStatus.ERROR and r.id not in tried:
                waiting.append(r.id)
        with self._lock:
            # None: looked at, nothing to retry (a repo whose name breaks the
            # rules stays in ERROR without being tried)
            self._repo_due[stack.id] = self._retries.next_try(waiting, now)

    def _push(self, client, desired, left_out, failed, fetch=False):
        """Push the conf without ``left_out``; repos gitolite refuses join ``failed``."""
        refused = None
        for _attempt in range(3):
            rendered = self._conf(desired, left_out)
            for what, why in rendered.skipped:
                LOG.warning('%s left out of gitolite.conf: %s', what, why)
            try:
                result = client.apply(rendered, 'solum-git config version %d'
                                      % desired.version, fetch=fetch)
                return rendered, result
            except admin.ReposRefused as e:
                # the server took the push but its compile stopped at these repos
                refused = e
                failed.update({name: 'gitolite refused it: %s' % _clean(why)
                               for name, why in e.repos.items()})
                left_out = left_out | set(e.repos)
                fetch = False
        raise admin.AdminError('gitolite refused the config three times; last: %s'
                               % refused)

    def _conf(self, desired, left_out):
        rendered = render.render(
            [render.Repo(r.name) for r in desired.safe if r.name not in left_out],
            desired.members, desired.keys, desired.admin_key,
            tls=desired.tls, protected=desired.protected,
            repo_size_bytes=desired.repo_size_bytes, **desired.credentials)
        rendered.files[names.MOVED_FILE] = names.moved_lines(desired.renames.moved)
        return rendered

    def _check(self, client, stack):
        """Repair drift on the server; what is on its disk."""
        check = client.check(fix=True)
        if not check.clean:
            LOG.warning('stack %s: %s on the server; %s', stack.uuid, check.state,
                        check.fixed or 'not fixed')
        return check

    def _render(self, stack):
        """One consistent read: the version first, so the data is at least that new."""
        repo, member, key = models.Repo, models.Member, models.Key
        with self.db.reader() as session:
            version = session.execute(sa.select(models.Stack.config_version).where(
                models.Stack.id == stack.id)).scalar_one()
            repos = session.execute(
                sa.select(repo.id, repo.uuid, repo.name, repo.status, repo.status_reason,
                          repo.default_branch, repo.restore_from)
                .where(repo.stack_id == stack.id)).all()
            members = session.execute(
                sa.select(repo.name, member.user_id, member.permission)
                .join(repo, member.repo_id == repo.id)
                .where(repo.stack_id == stack.id)).all()
            users = (sa.select(member.user_id).join(repo, member.repo_id == repo.id)
                     .where(repo.stack_id == stack.id))
            keys = session.execute(sa.select(key.uuid, key.user_id, key.public_key).where(
                key.user_id.in_(users))).all()
            creds = credentials.of_stack(session, stack.id, users)
            renames_of = renames.read(session, self.conf, stack, repos)
            protected = session.execute(
                sa.select(repo.name, models.ProtectedBranch.pattern,
                          models.ProtectedBranch.push,
                          models.ProtectedBranch.allow_force_push,
                          models.ProtectedBranch.allow_delete)
                .join(repo, models.ProtectedBranch.repo_id == repo.id)
                .where(repo.stack_id == stack.id)).all()
            limits = quotas.effective(self.conf, session.execute(
                sa.select(models.Quota).where(
                    models.Quota.project_id == stack.project_id)).scalar_one_or_none())
        # names from before today's rules are never sent to the server
        unsafe = {r.name for r in repos if not render.safe_repo_name(r.name)}
        return types.SimpleNamespace(
            version=version, repos=repos,
            admin_key=admin.public_key(stack.admin_private_key),
            safe=[r for r in repos if r.name not in unsafe],
            unsafe={name: 'not served: the name breaks the repo name rule of the API'
                    for name in unsafe},
            members=[render.Member(m.name, m.user_id, m.permission) for m in members],
            keys=[render.Key(k.uuid, k.user_id, k.public_key) for k in keys],
            credentials=creds, tls=credentials.tls_files(stack),
            renames=renames_of,
            protected=[render.ProtectedBranch(*p) for p in protected],
            repo_size_bytes=quotas.repo_size_bytes(limits))

    def _client(self, stack):
        return admin.AdminClient(
            os.path.join(self.admin_root, stack.uuid), stack.ssh_host, stack.ssh_port,
            stack.ssh_user, stack.admin_private_key,
            (stack.ssh_host_keys or '').splitlines(), mux=self._mux)

    # -- database writes ---------------------------------------------------------
    def _ensure_admin_key(self, stack):
        if stack.admin_private_key:
            return stack
        with self.db.writer() as session:
            session.execute(
                sa.update(models.Stack)
                .where(models.Stack.id == stack.id,
                       models.Stack.admin_private_key.is_(None))
                .values(admin_private_key=self.engine.box.seal(admin.generate_key()),
                        updated_at=models.Stack.updated_at)
                .execution_options(synchronize_session=False))
        with self.db.reader() as session:
            return self._snapshot(session.get(models.Stack, stack.id))

    def _ensure_host_key(self, stack):
        """The server's SSH host key, made here once, for a provisioner that takes it."""
        if not self.provisioner.host_key_from_db or stack.ssh_host_private_key:
            return stack
        private, _public = hostkeys.generate()
        with self.db.writer() as session:
            session.execute(
                sa.update(models.Stack)
                .where(models.Stack.id == stack.id,
                       models.Stack.ssh_host_private_key.is_(None))
                .values(ssh_host_private_key=self.engine.box.seal(private),
                        updated_at=models.Stack.updated_at)
                .execution_options(synchronize_session=False))
        with self.db.reader() as session:
            return self._snapshot(session.get(models.Stack, stack.id))

    def _ensure_http_port(self, stack):
        """A stack made before the HTTP front gets its port (local stacks)."""
        if stack.http_port is not None or not self.provisioner.http_port_range:
            return stack
        with self.db.writer() as session:
            row = session.get(models.Stack, stack.id)
            self.provisioner.reserve_http(session, row)
            session.flush()
            return self._snapshot(row)

    def _ensure_tls(self, stack):
        """A CA and a certificate for the server's address (remote servers)."""
        if not self.provisioner.serves_tls or not stack.ssh_host:
            return stack
        values = credentials.tls_values(stack)
        if not values:
            return stack
        with self.db.writer() as session:
            session.execute(sa.update(models.Stack).where(models.Stack.id == stack.id)
                            .values(**stack_keys.sealed(self.engine.box, values))
                            .execution_options(synchronize_session=False))
        LOG.info('stack %s: new HTTPS certificate for %s', stack.uuid, stack.ssh_host)
        for field, value in values.items():
            setattr(stack, field, value)
        return stack

    def _settings(self, stack):
        return {
            'admin_public_key': admin.public_key(stack.admin_private_key),
            'admin_user': render.ADMIN_USER,
            'callback_url': urls.callback_url(self.conf),
            'hook_program': package.hook_program(),
            'http_program': package.http_program(),
            'stack_id': stack.uuid,
        }

    def _record_server(self, stack, state, status):
        """What the provisioner learned: address, pinned host keys, Heat's id."""
        values = {}
        keys = state.ssh_host_keys
        if isinstance(keys, (list, tuple)):
            keys = '\n'.join(keys)
        for field, value in (('ssh_host', state.ssh_host), ('ssh_port', state.ssh_port),
                             ('ssh_user', state.ssh_user), ('ssh_host_keys', keys),
                             ('heat_stack_id', (state.extra or {}).get('heat_stack_id')),
                             ('http_port', (state.extra or {}).get('http_port')),
                             ('ssh_host_private_key',
                              (state.extra or {}).get('ssh_host_private_key'))):
            if value and getattr(stack, field) != value:
                values[field] = value
        if state.status in (ServerStatus.BUILDING, ServerStatus.STOPPED) and state.reason \
                and stack.status_reason != state.reason:
            values['status_reason'] = state.reason
        if status:
            values['status'] = status
        if values:
            with self.db.writer() as session:
                session.execute(sa.update(models.Stack)
                                .where(models.Stack.id == stack.id,
                                       models.Stack.status != StackStatus.DELETING)
                                .values(**stack_keys.sealed(self.engine.box, values))
                                .execution_options(synchronize_session=False))
            for field, value in values.items():
                setattr(stack, field, value)
        return stack

    def _record_applied(self, stack, version, repo_ids):
        """The stack is ACTIVE at ``version``; ``repo_ids`` are served (ACTIVE)."""
        with self.db.writer() as session:
            applied = session.execute(
                sa.update(models.Stack)
                .where(models.Stack.id == stack.id, models.Stack.status != StackStatus.DELETING)
                .values(status=StackStatus.ACTIVE, status_reason=None,
                        applied_version=sa.case(
                            (models.Stack.applied_version < version, version),
                            else_=models.Stack.applied_version))
                .execution_options(synchronize_session=False)).rowcount
            if applied and stack.status != StackStatus.ACTIVE:
                _tell(session, events.STACK_ACTIVE, stack, StackStatus.ACTIVE, None)
            for i in range(0, len(repo_ids), 500):
                session.execute(
                    sa.update(models.Repo)
                    .where(models.Repo.id.in_(repo_ids[i:i + 500]),
                           models.Repo.status != RepoStatus.ACTIVE)
                    .values(status=RepoStatus.ACTIVE, status_reason=None)
                    .execution_options(synchronize_session=False))

    def _record_restored(self, stack, by_name, restored, served, restore_all):
        """Restored repos say so in their status_reason; a restore request is done."""
        if not restored and not restore_all:
            return
        with self.db.writer() as session:
            for name, why in restored.items():
                if by_name[name].id in served:
                    session.execute(sa.update(models.Repo)
                                    .where(models.Repo.id == by_name[name].id)
                                    .values(status_reason=why[:4000])
                                    .execution_options(synchronize_session=False))
            if restore_all:
                session.execute(sa.update(models.Stack)
                                .where(models.Stack.id == stack.id,
                                       models.Stack.restore_requested_at
                                       <= stack.restore_requested_at)
                                .values(restore_requested_at=None)
                                .execution_options(synchronize_session=False))

    def _record_failed(self, stack, desired, failed):
        """Repos the server could not take go to ERROR with the reason."""
        changed = [(r.id, failed[r.name][:4000]) for r in desired.repos
                   if r.name in failed
                   and (r.status != RepoStatus.ERROR or r.status_reason != failed[r.name][:4000])]
        if not changed:
            return
        with self.db.writer() as session:
            for repo_id, why in changed:
                session.execute(sa.update(models.Repo)
                                .where(models.Repo.id == repo_id)
                                .values(status=RepoStatus.ERROR, status_reason=why)
                                .execution_options(synchronize_session=False))

    def _set_error(self, stack_id, reason):
        with self.db.writer() as session:
            row = session.get(models.Stack, stack_id)
            # no keys: a stack whose keys no [secrets] key opens still shows its error
            before = stack_keys.snapshot(None, row) if row is not None else None
            changed = session.execute(sa.update(models.Stack)
                                      .where(models.Stack.id == stack_id,
                                             models.Stack.status != StackStatus.DELETING)
                                      .values(status=StackStatus.ERROR,
                                              status_reason=reason[:4000])
                                      .execution_options(synchronize_session=False)).rowcount
            if changed and before is not None and before.status != StackStatus.ERROR:
                _tell(session, events.STACK_ERROR, before, StackStatus.ERROR, reason[:4000])

    def _delete(self, stack):
        self.provisioner.delete(stack)
        shutil.rmtree(os.path.join(self.admin_root, stack.uuid), ignore_errors=True)
        self._forget_backups_place(stack)
        with self.db.writer() as session:
            if session.execute(sa.delete(models.Stack).where(
                    models.Stack.id == stack.id, models.Stack.status == StackStatus.DELETING)
                    .execution_options(synchronize_session=False)).rowcount:
                _tell(session, events.STACK_DELETE_END, stack, 'DELETED', None)
        with self._lock:
            for table in (self._checked, self._not_before, self._failures,
                          self._repo_due, self._where):
                table.pop(stack.id, None)
            self._due.discard(stack.id)
        LOG.info('stack %s deleted', stack.uuid)

    def _forget_backups_place(self, stack):
        """A stack with no backups kept leaves nothing in the store (its Swift
        container); one whose repos' backups are kept leaves that to their pruning."""
        store = self.engine.backup_store
        if store is None:
            return
        with self.db.reader() as session:
            kept = session.execute(sa.select(models.Backup.id).where(
                models.Backup.stack_uuid == stack.uuid).limit(1)).first()
        if kept is None:
            try:
                store.forget_stack(stack.uuid)
            except Exception as e:
                LOG.warning('stack %s: its place in the backup store stays: %s',
                            stack.uuid, e)

    def close(self) -> None:
        # first the processes (a bootstrap in flight, ssh masters): the passes
        # that wait on them then end at once, and the pool after them; the git
        # servers themselves keep running
        self.provisioner.close()
        self._mux.close()
        self._pool.shutdown(wait=True)


def _triples(repos):
    return [(r.name, r.default_branch, r.uuid) for r in repos]


def _clean(line):
    """A server's message for a tenant: no "remote:" prefix, no Perl source line."""
    line = line.strip()
    if line.startswith('remote:'):
        line = line[len('remote:'):].strip()
    return admin.PERL_DIE.sub('', line)


class _ServerError(Exception):
    """The provisioner says the server is not usable; the text is its reason."""
