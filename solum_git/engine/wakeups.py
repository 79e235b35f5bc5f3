"""Wake-ups from the API's worker processes to the engine of the process that forked them.

Every intent is in the database already; a wake-up only cuts the engine's wait
short (its poll stays the safety net), as ``notify`` does when the engine and
the API share a process. A pipe made before the fork: workers write stack ids
(one line each, under PIPE_BUF: atomic), a thread of the engine reads them.
Nothing waits on it: a full pipe drops the wake-up, the poll finds the work.
"""
import logging
import os
import select
import threading

from solum_git.engine import service

LOG = logging.getLogger(__name__)


class PipeNotifier:
    """The engine handle of a worker process: ``notify`` writes to the pipe."""

    def __init__(self, fd: int):
        self.fd = fd
        os.set_blocking(fd, False)

    def notify(self, stack_id: int, resync: bool = False) -> None:
        try:
            os.write(self.fd, b'%d\n' % stack_id)
        except OSError:
            pass

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass


class PipeListener:
    """In the engine's process: each stack id read is ``engine.notify(stack_id)``."""

    def __init__(self, fd: int, engine: service.Engine):
        self.fd = fd
        self.engine = engine
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True,
                                        name='solum-git-wakeups')

    def start(self) -> 'PipeListener':
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        os.close(self.fd)

    def _loop(self):
        pending = b''
        while not self._stop.is_set():
            if not select.select([self.fd], [], [], 0.5)[0]:
                continue
            data = os.read(self.fd, 4096)
            if not data:            # every worker is gone
                return
            pending += data
            *lines, pending = pending.split(b'\n')
            for stack_id in {int(line) for line in lines if line.isdigit()}:
                try:
                    self.engine.notify(stack_id)
                except Exception:
                    LOG.exception('wake-up for stack %d failed', stack_id)
