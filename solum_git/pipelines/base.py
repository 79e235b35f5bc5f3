"""What every pipeline driver does: execute one run and say how it ended."""
import abc
import os
import threading
import time

QUEUED, RUNNING, SUCCESS, FAILED, ERROR = 'QUEUED', 'RUNNING', 'SUCCESS', 'FAILED', 'ERROR'
# a driver's answer only: the engine queues the run again after a backoff
RETRY = 'RETRY'
FINAL = (SUCCESS, FAILED, ERROR)


class Result:
    def __init__(self, status, reason=None, app_url=None, delivery=None):
        assert status in FINAL + (RETRY,), status
        self.status = status
        self.reason = reason
        self.app_url = app_url
        # one entry of the run's delivery log (webhook, solum)
        self.delivery = delivery


class RunSpec:
    """Everything a driver needs about one run; drivers never read the database.

    ``repo``, ``push`` and ``trigger`` are plain dicts; ``source`` fetches the
    pushed commit; ``stopping`` is set when the engine stops or loses the run.
    """

    def __init__(self, uuid, type, ref, before, commit, attempt, repo, push, trigger,
                 source, work_dir, log, stopping, api_url=None):
        self.uuid = uuid
        self.type = type
        self.ref = ref
        self.before = before
        self.commit = commit
        self.attempt = attempt
        self.repo = repo
        self.push = push
        self.trigger = trigger
        self.source = source
        self.work_dir = work_dir
        self.log = log
        self.stopping = stopping
        self.api_url = api_url

    @property
    def config(self):
        return self.trigger.get('config') or {}

    @property
    def branch(self):
        prefix = 'refs/heads/'
        return self.ref[len(prefix):] if self.ref.startswith(prefix) else self.ref


class RunLog:
    """A run's log file, cut at ``max_bytes``; safe to write from several threads."""

    def __init__(self, path, max_bytes, keep=False):
        self.path = path
        self.max_bytes = max_bytes
        self.version = 0
        self.cut = False
        self._lock = threading.Lock()
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        with open(path, 'a' if keep else 'w') as f:
            self.size = f.tell()

    def write(self, text):
        data = text.encode('utf-8', 'replace')
        with self._lock:
            if self.cut:
                return
            room = self.max_bytes - self.size
            if len(data) > room:
                data = data[:max(room, 0)] + (
                    b'\n[solum-git: log cut at %d bytes]\n' % self.max_bytes)
                self.cut = True
            with open(self.path, 'ab') as f:
                f.write(data)
            self.size += len(data)
            self.version += 1

    def note(self, message):
        """A line of solum-git's own, told apart from the commands' output."""
        self.write('--- %s %s\n' % (time.strftime('%H:%M:%S'), message))

    def text(self):
        with self._lock:
            with open(self.path, 'rb') as f:
                return f.read().decode('utf-8', 'replace')


class Pipeline(abc.ABC):
    """One kind of trigger (entry point name == trigger type)."""

    name = None

    def __init__(self, conf):
        self.conf = conf

    @abc.abstractmethod
    def execute(self, spec):
        """Do the run; return a Result. May block (it has its own thread)."""

    def close(self):
        """Stop whatever outlives a run (the local runner's apps) at engine stop."""
