"""The spool flusher: asks every git server to deliver the pushes it spooled.

A git server spools push events while the API is down; its hook delivers them
before its next post, and this worker asks each ACTIVE server to flush when
the engine starts, every ``[pipelines] flush_interval`` and on a stack resync.
It also forgets callback nonces whose time window has passed.
"""
import logging
import subprocess
import time

import sqlalchemy as sa

from solum_git.db import models
from solum_git.engine import service
from solum_git.pipelines import source as source_mod

LOG = logging.getLogger(__name__)
FLUSH_COMMAND = 'solum-flush'
FIRST_PASS_DELAY = 1.0


class FlushWorker(service.Worker):
    name = 'flush'

    def __init__(self, engine):
        super().__init__(engine)
        self.next_pass = time.monotonic() + FIRST_PASS_DELAY
        self.pending = set()

    @property
    def interval(self):
        return min(1.0, self.conf.pipelines.flush_interval)

    def wake(self, stack_id=None, resync=False, **kwargs):
        # pushes notify the engine too: only a resync (or the stop) is for us
        if resync and stack_id is not None:
            self.pending.add(stack_id)
            self._wake.set()
        elif stack_id is None:
            self._wake.set()

    def run_once(self):
        if self.engine.stopping.is_set():
            return False
        query = sa.select(models.Stack).where(models.Stack.status == 'ACTIVE')
        if time.monotonic() >= self.next_pass:
            self.next_pass = time.monotonic() + self.conf.pipelines.flush_interval
            self.pending.clear()
            self.prune_nonces()
        elif self.pending:
            ids, self.pending = self.pending, set()
            query = query.where(models.Stack.id.in_(ids))
        else:
            return False
        with self.db.reader() as session:
            stacks = session.execute(query).scalars().all()
        for stack in stacks:
            if self.engine.stopping.is_set():
                break
            try:
                self.flush(stack)
            except Exception:
                LOG.exception('stack %s: spool flush failed', stack.uuid)
        return False

    def flush(self, stack):
        """Run the server's ``solum-flush`` (the provisioner's own way if it has one)."""
        own = getattr(self.engine.provisioner, 'flush_spool', None)
        if own is not None:
            return own(stack)
        if not (stack.admin_private_key and stack.ssh_host and stack.ssh_host_keys):
            return None
        ssh = source_mod.Ssh(stack.ssh_host, stack.ssh_port, stack.ssh_user,
                             stack.admin_private_key, stack.ssh_host_keys.splitlines())
        try:
            done = subprocess.run(ssh.command(FLUSH_COMMAND), capture_output=True,
                                  text=True, timeout=120, stdin=subprocess.DEVNULL)
        finally:
            ssh.close()
        if done.returncode not in (0, 3):
            LOG.warning('stack %s: %s exited %d: %s', stack.uuid, FLUSH_COMMAND,
                        done.returncode, (done.stderr or done.stdout)[-500:])
        else:
            LOG.debug('stack %s: %s', stack.uuid, done.stdout.strip())
        return done.returncode

    def prune_nonces(self):
        """A nonce past its window can never be replayed: the timestamp check refuses."""
        with self.db.writer() as session:
            session.execute(sa.delete(models.HookNonce).where(
                models.HookNonce.expires_at < models.utcnow()))
