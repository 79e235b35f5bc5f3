"""The engine: threads that converge the database's desired state onto the world.

Workers (stacks: servers + gitolite config; runs: pipelines) each own one
kind of work and are woken by ``notify`` or by their own poll interval. Several
engines (processes) may run against one database: with ``[coordination]
backend_url`` the engines split the stacks by a hash ring (ownership.py), and
workers claim rows with leases (and a tooz lock per stack), so no change is
applied twice or lost.
"""
import logging
import threading
from typing import Any, Dict, Iterable, Optional, Set

from oslo_config import cfg

from solum_git.common import secretbox
from solum_git.db import api as db_api
from solum_git.engine import leases
from solum_git.engine import ownership
from solum_git.provisioners import base

LOG = logging.getLogger(__name__)


class Worker:
    """One loop: ``run_once()`` until stopped; ``wake()`` cuts the wait short."""

    name = 'worker'

    def __init__(self, engine: 'Engine'):
        self.engine = engine
        self.conf = engine.conf
        self.db = engine.db
        self._wake = threading.Event()
        self._thread: Optional[threading.Thread] = None

    @property
    def interval(self) -> float:
        return self.conf.engine.poll_interval

    def wake(self, stack_id: Optional[int] = None, **kwargs: Any) -> None:
        self._wake.set()

    def wait_seconds(self) -> float:
        """How long to sleep when idle: the poll, or less if the worker knows of
        work due sooner (a retry, a server being built)."""
        return self.interval

    def run_once(self) -> bool:
        """Do the pending work; return True if there may be more right away."""
        raise NotImplementedError

    def close(self) -> None:
        """Release what the worker holds (processes, connections) at stop."""

    def _loop(self):
        while not self.engine.stopping.is_set():
            try:
                more = self.run_once()
            except Exception:
                LOG.exception('%s: pass failed; retrying', self.name)
                more = False
            if not more:
                self._wake.wait(self.wait_seconds())
                self._wake.clear()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, daemon=True,
                                        name='solum-git-%s' % self.name)
        self._thread.start()

    def join(self, timeout: Optional[float] = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)


class Engine:
    def __init__(self, conf: cfg.ConfigOpts, db: db_api.Database,
                 provisioner: base.Provisioner, worker_classes: Iterable[type] = (),
                 backup_store: Optional[Any] = None):
        self.conf = conf
        self.db = db
        self.provisioner = provisioner
        self.backup_store = backup_store
        # the stacks' private keys are sealed under [secrets]: no key, no engine (NoKey)
        self.box = secretbox.SecretBox(conf)
        # who holds a lease: host, machine, pid and start time (leases.py)
        self.engine_id = leases.holder_id()
        self.stopping = threading.Event()
        # stack id -> workers refused its claim while this engine held it
        self._waiting: Dict[int, Set[Worker]] = {}
        self._waiting_lock = threading.Lock()
        self.workers = [cls(self) for cls in worker_classes]
        self.ownership = ownership.load(
            conf, self.engine_id,
            provisioner.engine_host() if provisioner.host_bound else None,
            on_change=self._rebalanced)

    # -- which stacks are this engine's ------------------------------------------------
    def owns(self, stack: Any) -> bool:
        """Whether the ring gives this engine ``stack`` (a row: uuid, ssh_host...)."""
        return self.ownership.owns(stack.uuid, ownership.ring_of(self.provisioner, stack))

    def _rebalanced(self) -> None:
        """The rings changed: stacks (and their runs) this engine now owns are
        looked at now, not after a poll."""
        for worker in self.workers:
            worker.wake()

    def claim_stack(self, stack_id: int, waiter: Optional[Worker] = None) -> bool:
        """The stack's tooz lock, then its lease row; True if both are taken.

        ``waiter``: the worker asking; refused because another worker of this
        engine holds the stack (a backup while a change is due), it is woken
        when that one releases it, not at its next poll.
        """
        name = 'solum-git-stack-%d' % stack_id
        taken = False
        if self.ownership.lock(name):
            try:
                taken = leases.claim_stack(self.db, stack_id, self.engine_id,
                                           self.conf.engine.lease_seconds,
                                           judge=self.ownership.dead)
            finally:
                if not taken:
                    self.ownership.unlock(name)
        if not taken and waiter is not None:
            with self._waiting_lock:
                self._waiting.setdefault(stack_id, set()).add(waiter)
        return taken

    def release_stack(self, stack_id: int) -> None:
        try:
            leases.release_stack(self.db, stack_id, self.engine_id)
        finally:
            self.ownership.unlock('solum-git-stack-%d' % stack_id)
            with self._waiting_lock:
                waiting = self._waiting.pop(stack_id, ())
            for worker in waiting:
                worker.wake(stack_id)

    def notify(self, stack_id: int, resync: bool = False) -> None:
        for worker in self.workers:
            worker.wake(stack_id, resync=resync)

    def start(self) -> None:
        # in the group (and so on the rings) before the first pass
        self.ownership.start()
        for worker in self.workers:
            worker.start()

    def stop(self, timeout: float = 10) -> None:
        self.stopping.set()
        for worker in self.workers:
            worker.wake()
        for worker in self.workers:
            worker.join(timeout)
        for worker in self.workers:
            worker.close()
        # leaving the group last: the stacks move once this engine is done
        self.ownership.stop()
