"""The spool flusher: asks every git server to deliver the pushes it spooled.

A git server spools push events while the API is down; its hook delivers them
before its next post, and this worker asks each ACTIVE server to flush when
the engine starts, every ``[pipelines] flush_interval`` and on a stack resync.
It also forgets callback nonces whose time window has passed.
"""
import logging
import time
from typing import Any, Optional

import sqlalchemy as sa

from solum_git.common import states
from solum_git.db import models
from solum_git.db import stack_keys
from solum_git.engine import service

LOG = logging.getLogger(__name__)
FIRST_PASS_DELAY = 1.0


class FlushWorker(service.Worker):
    name = 'flush'

    def __init__(self, engine: service.Engine):
        super().__init__(engine)
        self.next_pass = time.monotonic() + FIRST_PASS_DELAY
        self.pending: set[int] = set()

    @property
    def interval(self) -> float:
        return min(1.0, self.conf.pipelines.flush_interval)

    def wake(self, stack_id: Optional[int] = None, resync: bool = False,
             **kwargs: Any) -> None:
        # pushes notify the engine too: only a resync (or the stop) is for us
        if resync and stack_id is not None:
            self.pending.add(stack_id)
            self._wake.set()
        elif stack_id is None:
            self._wake.set()

    def run_once(self) -> bool:
        if self.engine.stopping.is_set():
            return False
        query = sa.select(models.Stack).where(models.Stack.status == states.StackStatus.ACTIVE)
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
            if not self.engine.owns(stack):
                continue    # its owner on the ring flushes it
            try:
                self.flush(stack_keys.snapshot(self.engine.box, stack))
            except Exception:
                LOG.exception('stack %s: spool flush failed', stack.uuid)
        return False

    def flush(self, stack: Any) -> Optional[int]:
        """Ask the stack's server to flush, through its provisioner.

        From this long-lived worker thread: the tethered ssh dies with the engine.
        """
        return self.engine.provisioner.flush(stack)

    def prune_nonces(self) -> None:
        """A nonce past its window can never be replayed: the timestamp check refuses."""
        with self.db.writer() as session:
            session.execute(sa.delete(models.HookNonce).where(
                models.HookNonce.expires_at < models.utcnow()))
