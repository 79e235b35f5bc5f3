"""What every pipeline driver does: execute one run and say how it ended."""
import abc
import os
import threading
import time
from typing import Any, Optional

from oslo_config import cfg

from solum_git.common import states


class Result:
    def __init__(self, status: str, reason: Optional[str] = None,
                 app_url: Optional[str] = None,
                 delivery: Optional[dict[str, Any]] = None):
        assert status in states.RUN_FINAL + (states.RunStatus.RETRY,), status
        self.status = status
        self.reason = reason
        self.app_url = app_url
        # one entry of the run's delivery log (webhook, solum)
        self.delivery = delivery


class RunSpec:
    """Everything a driver needs about one run; drivers never read the database.

    ``repo``, ``push`` and ``trigger`` are plain dicts; ``source`` fetches the
    pushed commit; ``stopping`` is set when the engine stops or loses the run;
    ``sandbox_uid`` is the project's own unix uid for its commands (local runs).
    """

    def __init__(self, uuid: str, type: str, ref: str, before: str, commit: str, attempt: int,
                 repo: dict[str, Any], push: dict[str, Any], trigger: dict[str, Any],
                 source: Any, work_dir: str, log: 'RunLog', stopping: threading.Event,
                 api_url: Optional[str] = None, sandbox_uid: Optional[int] = None,
                 secrets: Optional[dict[str, str]] = None,
                 rollback: Optional[dict[str, Any]] = None):
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
        self.sandbox_uid = sandbox_uid
        # the trigger's config.secrets, decrypted (never in ``trigger``)
        self.secrets = dict(secrets or {})
        # a rollback's target, {'run_uuid', 'release', 'commit', 'serving'}: its
        # build is deployed again (serving: the current release, for new config)
        self.rollback = rollback

    @property
    def config(self) -> dict[str, Any]:
        return self.trigger.get('config') or {}

    @property
    def branch(self) -> str:
        prefix = 'refs/heads/'
        return self.ref[len(prefix):] if self.ref.startswith(prefix) else self.ref


MASK = '***'
# a secret's line shorter than this is not masked alone (it would hide common text)
MIN_MASKED_LINE = 4


class RunLog:
    """A run's log file, cut at ``max_bytes``; safe to write from several threads.

    Values given to ``mask`` never reach the file: each is written as ``***``.
    ``rotate``: past ``max_bytes`` the file moves to ``<path>.1`` (one kept) and
    a new one starts, instead of the rest being cut off (apps' logs).
    """

    def __init__(self, path: str, max_bytes: int, keep: bool = False,
                 rotate: bool = False):
        self.path = path
        self.max_bytes = max_bytes
        self.rotate = rotate
        self.version = 0
        self.cut = False
        self._lock = threading.Lock()
        self._masked: list[str] = []
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        with open(path, 'a' if keep else 'w') as f:
            self.size = f.tell()

    def mask(self, values: Any) -> None:
        """Hide these values (and each line of a multi-line one) from now on."""
        masked = set(self._masked)
        for value in values:
            if not value:
                continue
            masked.add(value)
            lines = value.splitlines()
            if len(lines) > 1:
                # output is copied line by line: a multi-line secret arrives in pieces
                masked.update(line for line in lines if len(line) >= MIN_MASKED_LINE)
        with self._lock:
            self._masked = sorted(masked, key=len, reverse=True)

    def write(self, text: str) -> None:
        for value in self._masked:
            text = text.replace(value, MASK)
        data = text.encode('utf-8', 'replace')
        with self._lock:
            if self.cut:
                return
            if self.rotate and self.size and self.size + len(data) > self.max_bytes:
                os.replace(self.path, self.path + '.1')
                self.size = 0
            room = self.max_bytes - self.size
            if len(data) > room and self.rotate:
                data = data[:max(room, 0)]  # one line longer than the whole bound
            elif len(data) > room:
                data = data[:max(room, 0)] + (
                    b'\n[solum-git: log cut at %d bytes]\n' % self.max_bytes)
                self.cut = True
            with open(self.path, 'ab') as f:
                f.write(data)
            self.size += len(data)
            self.version += 1

    def note(self, message: str) -> None:
        """A line of solum-git's own, told apart from the commands' output."""
        self.write('--- %s %s\n' % (time.strftime('%H:%M:%S'), message))

    def text(self) -> str:
        with self._lock:
            with open(self.path, 'rb') as f:
                return f.read().decode('utf-8', 'replace')


class Pipeline(abc.ABC):
    """One kind of trigger (entry point name == trigger type).

    What a driver can do is declared here, with the defaults; the engine asks
    these, never a driver's name.
    """

    name: str | None = None
    # runs of one trigger execute one at a time, in push order (deploys)
    serial_per_trigger: bool = False
    # the run gets ``spec.source`` (the pushed code) when the server is reachable
    uses_source: bool = True
    # ... and cannot do without it: no reachable server is an ERROR
    needs_source: bool = False
    # its commands run as the project's own sandbox uid (``spec.sandbox_uid``)
    sandboxed: bool = False
    # the run's work dir is used after the run (an app runs there): kept
    keeps_work_dir: bool = False
    # it runs apps that outlive a run: the engine calls ``reconcile`` now and then
    runs_apps: bool = False

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self.conf = conf

    @classmethod
    def max_attempts(cls, opts: Any) -> int:
        """Starts a run may have (an engine lost during it counts); ``opts``: [pipelines].

        Deliveries are idempotent on the receiver's side: they may retry more.
        """
        return max(opts.retry_max_attempts, opts.max_attempts)

    @abc.abstractmethod
    def execute(self, spec: RunSpec) -> Result:
        """Do the run; return a Result. May block (it has its own thread)."""

    def reconcile(self, live_triggers: dict[str, int]) -> None:
        """``runs_apps`` drivers: the apps of ``{trigger uuid: sandbox uid}`` only."""

    def close(self) -> None:
        """Stop whatever outlives a run (the local runner's apps) at engine stop."""
