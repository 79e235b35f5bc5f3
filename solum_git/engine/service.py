"""The engine: threads that converge the database's desired state onto the world.

Workers (stacks: servers + gitolite config; runs: pipelines) each own one
kind of work and are woken by ``notify`` or by their own poll interval. Several
engines (processes) may run against one database: workers claim rows with
leases, so no change is applied twice or lost.
"""
import logging
import socket
import threading
import uuid

LOG = logging.getLogger(__name__)


class Worker:
    """One loop: ``run_once()`` until stopped; ``wake()`` cuts the wait short."""

    name = 'worker'

    def __init__(self, engine):
        self.engine = engine
        self.conf = engine.conf
        self.db = engine.db
        self._wake = threading.Event()
        self._thread = None

    @property
    def interval(self):
        return self.conf.engine.poll_interval

    def wake(self, stack_id=None, **kwargs):
        self._wake.set()

    def run_once(self):
        """Do the pending work; return True if there may be more right away."""
        raise NotImplementedError

    def close(self):
        """Release what the worker holds (processes, connections) at stop."""

    def _loop(self):
        while not self.engine.stopping.is_set():
            try:
                more = self.run_once()
            except Exception:
                LOG.exception('%s: pass failed; retrying', self.name)
                more = False
            if not more:
                self._wake.wait(self.interval)
                self._wake.clear()

    def start(self):
        self._thread = threading.Thread(target=self._loop, daemon=True,
                                        name='solum-git-%s' % self.name)
        self._thread.start()

    def join(self, timeout=None):
        if self._thread is not None:
            self._thread.join(timeout)


class Engine:
    def __init__(self, conf, db, provisioner, worker_classes=()):
        self.conf = conf
        self.db = db
        self.provisioner = provisioner
        # who holds a lease: unique per process, readable in the DB
        self.engine_id = '%s:%s' % (socket.gethostname()[:40], uuid.uuid4().hex[:12])
        self.stopping = threading.Event()
        self.workers = [cls(self) for cls in worker_classes]

    def notify(self, stack_id, resync=False):
        for worker in self.workers:
            worker.wake(stack_id, resync=resync)

    def start(self):
        for worker in self.workers:
            worker.start()

    def stop(self, timeout=10):
        self.stopping.set()
        for worker in self.workers:
            worker.wake()
        for worker in self.workers:
            worker.join(timeout)
        for worker in self.workers:
            worker.close()
