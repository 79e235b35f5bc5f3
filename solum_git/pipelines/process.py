"""Child processes of runs: output into the run's log, bounded in time, killed whole.

``run`` is for solum-git's own commands (git); ``Confined`` and ``run_confined``
for tenant commands, through a sandbox driver (``solum_git/sandboxes``).
"""
import os
import queue
import select
import signal
import subprocess
import threading
import time
from typing import Any, Callable, List, Mapping, Optional, Protocol, Sequence, Tuple

from solum_git.pipelines import base
from solum_git.pipelines import disk
from solum_git.sandboxes import base as sandbox_base

# the only parts of the service's environment a tenant's command sees
_KEEP = ('PATH', 'HOME', 'LANG', 'LC_ALL', 'TMPDIR', 'TZ')


class Log(Protocol):
    """Where a command's output goes (a run's ``RunLog``, or a capture)."""

    def write(self, text: str) -> None: ...


class Stopped(Exception):
    """The command ran out of time or disk, or the engine stopped; it has been killed.

    ``failed``: the command's own doing (a limit), not the engine's.
    """

    def __init__(self, message: str, failed: bool = False):
        super().__init__(message)
        self.failed = failed


def clean_env(extra: Optional[Mapping[str, str]] = None) -> dict[str, str]:
    env = {k: os.environ[k] for k in _KEEP if k in os.environ}
    env.setdefault('PATH', '/usr/local/bin:/usr/bin:/bin')
    env.setdefault('LANG', 'C.UTF-8')
    env.update(extra or {})
    return env


def _copy(stream, log):
    for line in iter(stream.readline, b''):
        log.write(line.decode('utf-8', 'replace'))
    stream.close()


def kill_group(proc: subprocess.Popen, grace: float = 5.0) -> None:
    """SIGTERM the process group, SIGKILL what is left after ``grace``; reap."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(grace)
            break
        except subprocess.TimeoutExpired:
            continue
    # a group member that outlived the leader still gets the SIGKILL
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _pidfd(proc):
    try:
        return os.pidfd_open(proc.pid)
    except OSError:
        return None  # already reaped, or no pidfds (Linux < 5.3)


def wait_exit(proc: subprocess.Popen, pidfd: Optional[int], timeout: float) -> int:
    """``proc``'s exit code, or raise TimeoutExpired; wakes up the moment it exits.

    (Popen.wait with a timeout polls with growing sleeps: up to twice a short
    command's own time.)
    """
    if pidfd is None:
        return proc.wait(timeout)
    if not select.select([pidfd], [], [], timeout)[0]:
        raise subprocess.TimeoutExpired(proc.args, timeout)
    return proc.wait()


def run(argv: Sequence[str], cwd: Optional[str], env: Mapping[str, str], log: Log,
        timeout: float, stopping: threading.Event) -> int:
    """Run to completion; return the exit code. Raises Stopped (process killed)."""
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    pidfd = _pidfd(proc)
    try:
        return _run_to_end(proc, pidfd, log, timeout, stopping)
    finally:
        if pidfd is not None:
            os.close(pidfd)


def _run_to_end(proc, pidfd, log, timeout, stopping):
    reader = threading.Thread(target=_copy, args=(proc.stdout, log), daemon=True)
    reader.start()
    deadline = time.monotonic() + timeout
    while True:
        try:
            code = wait_exit(proc, pidfd, 0.1)
            break
        except subprocess.TimeoutExpired:
            if stopping.is_set():
                kill_group(proc)
                raise Stopped('stopped: the engine is stopping')
            if time.monotonic() > deadline:
                kill_group(proc)
                raise Stopped('timed out after %d s' % timeout, failed=True)
    # background children keep the pipe open: do not wait on them forever
    reader.join(2)
    return code


class Spawner:
    """Starts child processes from one thread that lives as long as its owner.

    bwrap's --die-with-parent (PR_SET_PDEATHSIG) kills a sandbox when the
    *thread* that forked it exits, not the process: a short-lived thread (a
    run's, an app's restart) must never be the one that starts it.
    """

    def __init__(self, name: str = 'solum-git-spawner'):
        self.name = name
        # (what to call, where its outcome goes), or None: stop
        self._queue: queue.Queue[Optional[Tuple[Callable[[], Any], dict[str, Any]]]] = \
            queue.Queue()
        self._thread: Optional[threading.Thread] = None
        self._lock = threading.Lock()
        self._closed = False

    def _loop(self):
        while True:
            item = self._queue.get()
            if item is None:
                return
            function, outcome = item
            try:
                outcome['value'] = function()
            except BaseException as e:
                outcome['error'] = e
            outcome['done'].set()

    def popen(self, argv: Sequence[str], **kwargs: Any) -> subprocess.Popen:
        """``subprocess.Popen(argv, **kwargs)``, called in the spawner's thread."""
        with self._lock:
            if self._closed:
                raise Stopped('stopped: the engine is stopping')
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, daemon=True,
                                                name=self.name)
                self._thread.start()
            outcome: dict[str, Any] = {'done': threading.Event()}
            self._queue.put((lambda: subprocess.Popen(argv, **kwargs), outcome))
        outcome['done'].wait()
        if 'error' in outcome:
            raise outcome['error']
        return outcome['value']

    @property
    def thread(self) -> Optional[threading.Thread]:
        return self._thread

    def close(self) -> None:
        """After the processes it started are stopped: they would die with it."""
        with self._lock:
            self._closed = True
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(5)


class Confined:
    """One tenant command in its sandbox: output into ``log``, work dir watched.

    ``start()`` raises ``sandbox_base.Unavailable`` when the sandbox cannot
    start; ``finish()`` (always, after the end) says whether the command ran.
    """

    def __init__(self, sandbox: sandbox_base.Sandbox, job: sandbox_base.Job, spawner: Spawner,
                 log: base.RunLog, disk_interval: float):
        self.sandbox = sandbox
        self.job = job
        self.spawner = spawner
        self.log = log
        self.meter = disk.Meter(job.box, job.limits.max_disk_mb * sandbox_base.MIB,
                                disk_interval)
        # set by start()
        self.proc: Any = None
        self.launch: Any = None
        self._reader: Optional[threading.Thread] = None
        self._pidfd: Optional[int] = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def start(self) -> 'Confined':
        self.sandbox.check()
        launch = self.sandbox.launch(self.job)
        try:
            self.proc = self.spawner.popen(
                launch.argv, cwd=launch.cwd, env=launch.env, pass_fds=launch.pass_fds,
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, start_new_session=True)
        except OSError as e:
            launch.close_child_fds()
            launch.finish()
            raise sandbox_base.Unavailable('the sandbox cannot start: %s; %s'
                                           % (e, sandbox_base.HOW_TO_FIX))
        except BaseException:
            launch.close_child_fds()
            launch.finish()
            raise
        self.launch = launch
        self._reader = threading.Thread(target=_copy, args=(self.proc.stdout, self.log),
                                        daemon=True)
        self._reader.start()
        try:
            launch.spawned(self.proc)
        except sandbox_base.Unavailable:
            self.kill()
            self.finish()
            raise
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait(self, timeout: float) -> int:
        """The exit code, or raise TimeoutExpired; wakes up the moment it exits."""
        if self._pidfd is None:
            self._pidfd = _pidfd(self.proc)
        return wait_exit(self.proc, self._pidfd, timeout)

    def over_disk(self) -> bool:
        return self.meter.over()

    def disk_message(self) -> str:
        return ('used %d MiB in its work dir, more than [sandbox] max_disk_mb = %d; '
                'killed' % (self.meter.used // sandbox_base.MIB,
                            self.job.limits.max_disk_mb))

    def kill(self, grace: float = 5.0) -> None:
        """Every process of the command, whatever it started, then reap."""
        if self.proc is None:
            return
        if self.proc.poll() is None and self.launch.kill():
            try:
                self.proc.wait(grace)
                return
            except subprocess.TimeoutExpired:
                pass
        kill_group(self.proc, grace)

    def finish(self) -> Tuple[bool, List[str]]:
        """(the command ran, notes for the log); releases the launch."""
        if self._reader is not None:
            # background children keep the pipe open: do not wait on them forever
            self._reader.join(2)
        code = self.proc.poll()
        ran = self.launch.started(code) if code is not None else True
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None
        return ran, self.launch.finish()


def kill_orphaned_sandboxes(bwrap_name: str = 'bwrap') -> List[int]:
    """SIGKILL the sandboxes whose bwrap lost its parent before binding its life to it.

    --die-with-parent is a prctl made after the fork: an engine (thread) that
    dies in that instant leaves a sandbox owned by init. Ours are the bwrap
    processes with a ``SOLUM_GIT_RUN`` in their environment. Returns their pids.
    """
    killed = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % entry) as f:
                ppid = int(f.read().rsplit(')', 1)[1].split()[1])
            if ppid != 1:
                continue
            with open('/proc/%s/cmdline' % entry, 'rb') as f:
                argv = f.read().split(b'\0')
            if not (os.path.basename(argv[0]) == bwrap_name.encode()
                    and b'--die-with-parent' in argv):
                continue
            with open('/proc/%s/environ' % entry, 'rb') as f:
                if not any(v.startswith(b'SOLUM_GIT_RUN=') for v in f.read().split(b'\0')):
                    continue
            os.kill(int(entry), signal.SIGKILL)
            killed.append(int(entry))
        except (OSError, ValueError, IndexError):
            continue
    return killed


def unavailable_reason(log_text: str) -> str:
    """The sandbox's own complaint (bwrap: ..., setpriv: ...) from a run's output."""
    lines = [line.strip() for line in log_text.splitlines()
             if line.startswith(('bwrap:', 'setpriv:', 'prlimit:', 'solum-git:'))]
    return lines[-1] if lines else 'no message'


def run_confined(sandbox: sandbox_base.Sandbox, job: sandbox_base.Job, spawner: Spawner,
                 log: base.RunLog, timeout: float, stopping: threading.Event,
                 disk_interval: float) -> int:
    """Run a tenant command to completion; return its exit code.

    Raises Stopped (killed: time, disk, engine stop) or Unavailable (the
    sandbox did not start, so the command never ran).
    """
    confined = Confined(sandbox, job, spawner, log, disk_interval)
    confined.start()
    deadline = time.monotonic() + timeout
    stopped = None
    try:
        while True:
            try:
                code = confined.wait(0.1)
                break
            except subprocess.TimeoutExpired:
                if stopping.is_set():
                    stopped = Stopped('stopped: the engine is stopping')
                elif time.monotonic() > deadline:
                    stopped = Stopped('timed out after %d s' % timeout, failed=True)
                elif confined.over_disk():
                    stopped = Stopped(confined.disk_message(), failed=True)
                if stopped is not None:
                    confined.kill()
                    break
    finally:
        if confined.proc.poll() is None:
            confined.kill()
        ran, notes = confined.finish()
    for note in notes:
        log.note(note)
    if stopped is not None:
        raise stopped
    if not ran and not notes:
        raise sandbox_base.Unavailable('the sandbox could not start (%s); %s' % (
            unavailable_reason(log.text()[-4000:]), sandbox_base.HOW_TO_FIX))
    return code
