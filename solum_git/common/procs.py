"""Processes by /proc: who is alive, who started when, and children tied to us.

Two needs meet here. A child the engine starts for its own work (an ssh
master, a bootstrap) must die with the engine, even on ``kill -9``: the
kernel's parent-death signal does that (``setpriv --pdeathsig``), and a new
pid namespace takes a whole tree down with its first process. A process the
engine did not start (a git server daemon, another engine) is identified by
its pid *and* its start time, so a reused pid is never taken for it.

PR_SET_PDEATHSIG fires when the *thread* that spawned the child exits: spawn
tethered children only from long-lived threads (the engine's workers and
pools), never from a request thread.
"""
import functools
import os
import signal
import subprocess
import time

_PDEATHSIG = ['setpriv', '--pdeathsig', 'KILL', '--']


def tethered(argv):
    """``argv`` run so that it is killed when the spawning thread dies."""
    return _PDEATHSIG + list(argv)


def tethered_tree(argv):
    """``argv`` and everything it starts, killed when the spawning thread dies.

    The child is PID 1 of a new pid namespace (``unshare --kill-child``): when
    it dies, the kernel kills every process of that namespace. An ordinary
    user needs a user namespace for that; without one, only ``argv`` itself
    is tethered.
    """
    ns = _pid_namespace_prefix()
    return _PDEATHSIG + ns + list(argv)


@functools.lru_cache(maxsize=1)
def _pid_namespace_prefix():
    prefix = ['unshare', '--pid', '--fork', '--kill-child=KILL']
    if os.geteuid() != 0:
        prefix[1:1] = ['--user', '--map-current-user']
    try:
        ok = subprocess.run(prefix + ['--', 'true'], capture_output=True,
                            timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    return (prefix + ['--']) if ok else []


def _stat(pid):
    """The fields of /proc/<pid>/stat after the command name, or None."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()
    except (OSError, ValueError, IndexError):
        return None


def start_time(pid):
    """Clock ticks after boot at which ``pid`` started (None: no such process)."""
    fields = _stat(pid)
    return int(fields[19]) if fields else None


def alive(pid, started=None):
    """True if ``pid`` runs (not a zombie) and, if given, started at ``started``."""
    fields = _stat(pid)
    if not fields or fields[0] in ('Z', 'X'):
        return False
    return started is None or int(fields[19]) == int(started)


def owner(pid):
    """The uid that owns the process (its real uid), or None."""
    try:
        return os.stat('/proc/%d' % pid).st_uid
    except OSError:
        return None


def title(pid):
    """The command line as one string (sshd rewrites its own), or ''."""
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            return f.read().replace(b'\0', b' ').decode('utf-8', 'replace').strip()
    except OSError:
        return ''


def all_pids():
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            yield int(entry)


def children(pid):
    """[(pid, start time)] of the live children of ``pid``."""
    found = []
    for other in all_pids():
        fields = _stat(other)
        if fields and int(fields[1]) == pid and fields[0] not in ('Z', 'X'):
            found.append((other, int(fields[19])))
    return found


def of_user(uid):
    """[(pid, start time)] of the live processes whose real uid is ``uid``."""
    found = []
    for pid in all_pids():
        if owner(pid) == uid:
            started = start_time(pid)
            if started is not None and alive(pid):
                found.append((pid, started))
    return found


def stop(pid, started, grace=5.0):
    """SIGTERM the process started at ``started``, SIGKILL it after ``grace``.

    Only that process: a pid whose start time differs is someone else's now.
    The signal goes through a pidfd opened before the start time is checked,
    so a pid reused in between is never hit.
    """
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 2.0)):
            if not alive(pid, started):
                return True
            try:
                signal.pidfd_send_signal(fd, sig)
            except ProcessLookupError:
                return True
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                if not alive(pid, started):
                    return True
                time.sleep(0.02)
        return not alive(pid, started)
    finally:
        os.close(fd)
