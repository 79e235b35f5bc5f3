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
import datetime
import logging
import os
import shutil
import threading
import time
import types

import sqlalchemy as sa

from solum_git.conf import hook as hook_conf
from solum_git.db import models
from solum_git.engine import service
from solum_git.gitolite import admin
from solum_git.gitolite import render
from solum_git.gitolite import ssh
from solum_git.provisioners import base

LOG = logging.getLogger(__name__)

BUILDING, ACTIVE, ERROR, DELETING = 'BUILDING', 'ACTIVE', 'ERROR', 'DELETING'
# how often the whole stack table is scanned for drift checks
SCAN_SECONDS = 5.0
# a server still being built is looked at again after this long
BUILD_POLL_SECONDS = 3.0
MAX_BACKOFF = 60.0


def _hook_program():
    from solum_git import hook
    path = os.path.join(os.path.dirname(hook.__file__), 'main.py')
    return path if os.path.exists(path) else None


def _snapshot(row):
    return types.SimpleNamespace(**{c.name: getattr(row, c.name)
                                    for c in models.Stack.__table__.columns})


class StackWorker(service.Worker):
    name = 'stacks'

    def __init__(self, engine):
        super().__init__(engine)
        self.provisioner = engine.provisioner
        self.threads = self.conf.engine.stack_threads
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=self.threads, thread_name_prefix='solum-git-stack')
        self._lock = threading.Lock()
        self._busy = set()          # stack ids being worked on in this process
        self._resync = set()        # stack ids an operator asked to resync
        self._checked = {}          # stack id -> monotonic time of the last drift check
        self._not_before = {}       # stack id -> monotonic time before which to wait
        self._failures = {}         # stack id -> consecutive failures (backoff)
        self._dead_servers = set()  # stack uuids whose server process died
        self._last_scan = 0.0
        self._due = set()
        self._mux = ssh.Multiplexer()

    @property
    def admin_root(self):
        return os.path.join(self.conf.state_path, 'admin')

    def wake(self, stack_id=None, resync=False, **kwargs):
        if stack_id is not None:
            with self._lock:
                self._not_before.pop(stack_id, None)
                if resync:
                    self._resync.add(stack_id)
        super().wake()

    # -- one pass -----------------------------------------------------------------
    def run_once(self):
        self._dead_servers.update(self.provisioner.reap())
        self._mux.reap()
        now = time.monotonic()
        with self._lock:
            free = self.threads - len(self._busy)
            busy = set(self._busy)
        if free <= 0:
            return False
        for stack_id in self._candidates(now, busy)[:free]:
            if not self._claim(stack_id):
                continue
            with self._lock:
                self._busy.add(stack_id)
            self._pool.submit(self._work, stack_id)
        return False

    def _candidates(self, now, busy):
        """Stack ids worth a look, most urgent first."""
        stack = models.Stack
        with self.db.reader() as session:
            pending = session.execute(
                sa.select(stack.id).where(
                    stack.provisioner == self.provisioner.name,
                    sa.or_(stack.applied_version < stack.config_version,
                           stack.status.in_([BUILDING, DELETING]))
                ).order_by(stack.id)).scalars().all()
            if now - self._last_scan >= SCAN_SECONDS or self._dead_servers:
                self._last_scan = now
                rows = session.execute(sa.select(stack.id, stack.uuid).where(
                    stack.provisioner == self.provisioner.name)).all()
                interval = self.conf.engine.resync_interval
                with self._lock:
                    self._due = {r.id for r in rows
                                 if now - self._checked.get(r.id, -1e9) >= interval
                                 or r.uuid in self._dead_servers}
        with self._lock:
            wanted = list(pending) + sorted(self._resync | self._due)
            ready = []
            for stack_id in wanted:
                if stack_id in busy or stack_id in ready:
                    continue
                if self._not_before.get(stack_id, 0) > now:
                    continue
                ready.append(stack_id)
        return ready

    def _claim(self, stack_id):
        """Take the stack's lease, unless another engine holds a live one."""
        now = models.utcnow()
        stack = models.Stack
        with self.db.writer() as session:
            if session.bind.dialect.name in ('mysql', 'postgresql'):
                # a row another engine is claiming right now is skipped, not waited on
                query = sa.select(stack.id).where(
                    stack.id == stack_id,
                    sa.or_(stack.lease_owner.is_(None),
                           stack.lease_owner == self.engine.engine_id,
                           stack.lease_expires < now)).with_for_update(skip_locked=True)
                if session.execute(query).first() is None:
                    return False
            result = session.execute(
                sa.update(stack).where(
                    stack.id == stack_id,
                    sa.or_(stack.lease_owner.is_(None),
                           stack.lease_owner == self.engine.engine_id,
                           stack.lease_expires < now))
                .values(lease_owner=self.engine.engine_id,
                        lease_expires=now + datetime.timedelta(
                            seconds=self.conf.engine.lease_seconds),
                        updated_at=stack.updated_at)
                .execution_options(synchronize_session=False))
            return result.rowcount == 1

    def _release(self, stack_id):
        stack = models.Stack
        with self.db.writer() as session:
            session.execute(
                sa.update(stack).where(stack.id == stack_id,
                                       stack.lease_owner == self.engine.engine_id)
                .values(lease_owner=None, lease_expires=None, updated_at=stack.updated_at)
                .execution_options(synchronize_session=False))

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
            self._wake.set()

    # -- converging one stack --------------------------------------------------------
    def converge(self, stack_id):
        with self.db.reader() as session:
            row = session.get(models.Stack, stack_id)
            if row is None:
                return
            stack = _snapshot(row)
        if stack.status == DELETING:
            return self._delete(stack)
        with self._lock:
            explicit = stack_id in self._resync
            self._resync.discard(stack_id)
            dead = stack.uuid in self._dead_servers
            self._dead_servers.discard(stack.uuid)
        started = time.monotonic()
        due = started - self._checked.get(stack_id, -1e9) >= self.conf.engine.resync_interval
        stack = self._ensure_admin_key(stack)
        settings = self._settings(stack)

        if stack.status in (BUILDING, ERROR) and (
                stack.applied_version < stack.config_version or explicit or due):
            self.provisioner.create(stack, settings)
        state = self.provisioner.check(stack)
        if state.status == base.BUILDING:
            if stack.status == ACTIVE and (explicit or due or dead):
                self.provisioner.create(stack, settings)
                state = self.provisioner.check(stack)
        if state.status == base.BUILDING:
            self._not_before[stack_id] = time.monotonic() + BUILD_POLL_SECONDS
            self._record_server(stack, state, status=None)
            return
        if state.status != base.ACTIVE:
            raise _ServerError(state.reason or 'server is %s' % state.status)
        stack = self._record_server(stack, state, status=None)

        thorough = explicit or due or dead or stack.status != ACTIVE
        if thorough:
            self.provisioner.repair(stack, settings, deep=explicit)
        self._apply(stack, thorough)
        with self._lock:
            if thorough:
                self._checked[stack_id] = started
                self._due.discard(stack_id)

    def _apply(self, stack, thorough):
        started = time.monotonic()
        desired = self._render(stack)
        version, rendered = desired.version, desired.rendered
        rendered_at = time.monotonic()
        for what, why in rendered.skipped:
            LOG.warning('stack %s: %s left out of gitolite.conf: %s', stack.uuid, what, why)
        client = self._client(stack)
        stale = set()
        fetch = False
        check = None
        if thorough:
            check = self._check(client, stack)
            fetch = check.head != client.local_head()
        if desired.new:
            # made here (idempotent, by uuid), not by gitolite's compile
            client.create_repos(desired.new)
        pushing = time.monotonic()
        result = client.apply(rendered, 'solum-git config version %d' % version,
                              fetch=fetch)
        pushed = time.monotonic()
        if not thorough and not result.pushed and version > stack.applied_version:
            # a bump that changes nothing: a resync asked for by another process
            # (or a new default branch, which is not in the conf)
            check = self._check(client, stack)
        if check is not None:
            stale = check.repos - set(rendered.repos) - {render.ADMIN_REPO}
            heads = {name: branch for name, branch in desired.branches.items()
                     if name in check.heads
                     and check.heads[name] != 'refs/heads/%s' % branch}
        else:
            heads = {}
        if heads:
            client.set_heads(heads)
        remove = set(result.removed) | stale
        if remove:
            LOG.info('stack %s: removing repos %s', stack.uuid, ', '.join(sorted(remove)))
            client.remove_repos(remove)
        self._record_applied(stack, version, desired.repo_ids)
        if result.pushed or thorough:
            LOG.info('stack %s: config version %d applied (%d repos%s%s) in %.2fs: '
                     'render %.2fs, push %.2fs', stack.uuid, version, len(rendered.repos),
                     ', pushed' if result.pushed else '', ', checked' if thorough else '',
                     time.monotonic() - started, rendered_at - started, pushed - pushing)

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
                sa.select(repo.id, repo.uuid, repo.name, repo.status, repo.default_branch)
                .where(repo.stack_id == stack.id)).all()
            members = session.execute(
                sa.select(repo.name, member.user_id, member.permission)
                .join(repo, member.repo_id == repo.id)
                .where(repo.stack_id == stack.id)).all()
            users = (sa.select(member.user_id).join(repo, member.repo_id == repo.id)
                     .where(repo.stack_id == stack.id))
            keys = session.execute(sa.select(key.uuid, key.user_id, key.public_key).where(
                key.user_id.in_(users))).all()
        rendered = render.render(
            [render.Repo(r.name) for r in repos],
            [render.Member(m.name, m.user_id, m.permission) for m in members],
            [render.Key(k.uuid, k.user_id, k.public_key) for k in keys],
            admin.public_key(stack.admin_private_key))
        served = set(rendered.repos)
        state = types.SimpleNamespace(
            version=version, rendered=rendered,
            repo_ids=[r.id for r in repos if r.name in served],
            branches={r.name: r.default_branch for r in repos if r.name in served},
            new=sorted((r.name, r.default_branch, r.uuid) for r in repos
                       if r.name in served and r.status != ACTIVE))
        return state

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
                .values(admin_private_key=admin.generate_key(),
                        updated_at=models.Stack.updated_at)
                .execution_options(synchronize_session=False))
        with self.db.reader() as session:
            return _snapshot(session.get(models.Stack, stack.id))

    def _settings(self, stack):
        return {
            'admin_public_key': admin.public_key(stack.admin_private_key),
            'admin_user': render.ADMIN_USER,
            'callback_url': hook_conf.callback_url(self.conf),
            'hook_program': _hook_program(),
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
                             ('heat_stack_id', (state.extra or {}).get('heat_stack_id'))):
            if value and getattr(stack, field) != value:
                values[field] = value
        if state.status == base.BUILDING and state.reason \
                and stack.status_reason != state.reason:
            values['status_reason'] = state.reason
        if status:
            values['status'] = status
        if values:
            with self.db.writer() as session:
                session.execute(sa.update(models.Stack)
                                .where(models.Stack.id == stack.id,
                                       models.Stack.status != DELETING)
                                .values(**values)
                                .execution_options(synchronize_session=False))
            for field, value in values.items():
                setattr(stack, field, value)
        return stack

    def _record_applied(self, stack, version, repo_ids):
        with self.db.writer() as session:
            session.execute(
                sa.update(models.Stack)
                .where(models.Stack.id == stack.id, models.Stack.status != DELETING)
                .values(status=ACTIVE, status_reason=None,
                        applied_version=sa.case(
                            (models.Stack.applied_version < version, version),
                            else_=models.Stack.applied_version))
                .execution_options(synchronize_session=False))
            if repo_ids:
                for i in range(0, len(repo_ids), 500):
                    session.execute(
                        sa.update(models.Repo)
                        .where(models.Repo.id.in_(repo_ids[i:i + 500]),
                               models.Repo.status != ACTIVE)
                        .values(status=ACTIVE, status_reason=None)
                        .execution_options(synchronize_session=False))

    def _set_error(self, stack_id, reason):
        with self.db.writer() as session:
            session.execute(sa.update(models.Stack)
                            .where(models.Stack.id == stack_id,
                                   models.Stack.status != DELETING)
                            .values(status=ERROR, status_reason=reason[:4000])
                            .execution_options(synchronize_session=False))

    def _delete(self, stack):
        self.provisioner.delete(stack)
        shutil.rmtree(os.path.join(self.admin_root, stack.uuid), ignore_errors=True)
        with self.db.writer() as session:
            session.execute(sa.delete(models.Stack).where(
                models.Stack.id == stack.id, models.Stack.status == DELETING)
                .execution_options(synchronize_session=False))
        with self._lock:
            for table in (self._checked, self._not_before, self._failures):
                table.pop(stack.id, None)
            self._due.discard(stack.id)
        LOG.info('stack %s deleted', stack.uuid)

    def close(self):
        # first the processes (a bootstrap in flight, sshds): the passes that
        # wait on them then end at once, and the pool after them
        self.provisioner.close()
        self._mux.close()
        self._pool.shutdown(wait=True)


class _ServerError(Exception):
    """The provisioner says the server is not usable; the text is its reason."""
