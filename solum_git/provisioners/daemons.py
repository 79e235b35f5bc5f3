"""The server processes of a local stack: detached daemons found by pid file.

A git server is the data plane: it must not stop when the engine does. Each
of a stack's server processes (its sshd today) runs in its own session with
init as its parent, writes its pid file under the stack's directory, and is
found again by any engine: the pid in the file counts only if that process
is alive, runs as the service's own uid and names this stack's config on its
command line, so a stale or forged pid file never makes an engine signal a
stranger.
"""
import os
import socket
import subprocess
import time
from typing import Mapping, Optional, Sequence, Tuple

from solum_git.common import private
from solum_git.common import procs

PIDFILE_MAX = 64


class DaemonError(Exception):
    """The daemon could not be started; the text is the reason."""


class Daemon:
    """One long-running process of a stack, e.g. its sshd.

    ``argv`` starts it and returns once it has detached (sshd without ``-D``
    forks into its own session and writes ``pidfile``); ``identity`` is the
    part of its command line (e.g. ``-f <its config>``) that tells it from
    every other process.
    """

    def __init__(self, name: str, argv: Sequence[str], pidfile: str, log: str, identity: str,
                 host: str, port: int, env: Optional[Mapping[str, str]] = None,
                 uid: Optional[int] = None, hello: bytes = b'', banner: bytes = b'SSH-'):
        self.name = name
        self.argv = list(argv)
        self.pidfile = pidfile
        self.log = log
        self.identity = identity
        self.host = host
        self.port = port
        self.env = env or {}
        # the uid it runs as (default the service's); what it answers on its port
        self.uid = os.geteuid() if uid is None else uid
        self.hello = hello
        self.banner = banner

    # -- finding it -------------------------------------------------------------
    def find(self) -> Optional[Tuple[int, Optional[int]]]:
        """(pid, start time) of the running daemon, or None."""
        pid = _read_pid(self.pidfile)
        if pid is None or not self._is_it(pid):
            return None
        return pid, procs.start_time(pid)

    def _is_it(self, pid):
        return (procs.alive(pid) and procs.owner(pid) == self.uid
                and (' %s ' % self.identity) in (' %s ' % procs.title(pid)))

    def running(self) -> Optional[Tuple[int, Optional[int]]]:
        """(pid, start time) by its pid file, else by a look through /proc."""
        return self.find() or self.recover()

    def recover(self) -> Optional[Tuple[int, Optional[int]]]:
        """The daemon running without its pid file (removed while it ran): the
        file is written again and (pid, start time) returned; else None."""
        for pid in procs.all_pids():
            if self._is_it(pid):
                tmp = self.pidfile + '.tmp'
                with open(tmp, 'w') as f:
                    f.write('%d\n' % pid)
                os.replace(tmp, self.pidfile)
                return pid, procs.start_time(pid)
        return None

    def answers(self, timeout: float = 1.0) -> bool:
        """True when the daemon answers on its port (sshd: its banner)."""
        try:
            with socket.create_connection((self.host, self.port), timeout=timeout) as s:
                s.settimeout(timeout)
                if self.hello:
                    s.sendall(self.hello)
                return s.recv(8).startswith(self.banner)
        except OSError:
            return False

    # -- starting and stopping -----------------------------------------------------
    def start(self, timeout: float) -> Tuple[int, Optional[int]]:
        """Start it detached; (pid, start time) once it answers."""
        try:
            os.unlink(self.pidfile)  # stale: find() said nobody runs
        except FileNotFoundError:
            pass
        deadline = time.monotonic() + timeout
        try:
            # not tethered: the daemon must outlive the engine
            done = subprocess.run(self.argv, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  env=self.env, start_new_session=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise DaemonError('%s did not detach within %ss' % (self.name, timeout))
        if done.returncode != 0:
            raise DaemonError('%s for %s:%s exited at start (%d): %s' % (
                self.name, self.host, self.port, done.returncode,
                tail(done.stderr.decode(errors='replace') + self._log_tail())))
        while time.monotonic() < deadline:
            found = self.find()
            if found and self.answers(0.5):
                return found
            time.sleep(0.02)
        found = self.find()
        if found:
            procs.stop(*found)
        raise DaemonError('%s for %s:%s did not answer within %ss: %s' % (
            self.name, self.host, self.port, timeout, tail(self._log_tail())))

    def stop(self, sessions: bool = False) -> bool:
        """Stop it (verified as in find()); ``sessions``: its connections too."""
        found = self.running()
        if found is None:
            return False
        pid, started = found
        kids = procs.children(pid) if sessions else []
        procs.stop(pid, started)
        for kid, kid_started in kids:
            procs.stop(kid, kid_started, grace=1.0)
        return True

    def _log_tail(self):
        try:
            with open(self.log, 'rb') as f:
                f.seek(max(0, os.fstat(f.fileno()).st_size - 4096))
                return f.read().decode(errors='replace')
        except OSError:
            return ''


def _read_pid(path):
    """The pid in a pid file: a small regular file, not a symlink."""
    data = private.read_untrusted(path, PIDFILE_MAX)
    text = (data or b'').decode('ascii', 'replace').strip()
    return int(text) if text.isdigit() and 1 < int(text) < 1 << 22 else None


def rotate_log(path: str, max_bytes: int) -> None:
    """Empty a daemon's log once it passes ``max_bytes`` (it appends: O_APPEND)."""
    try:
        if os.stat(path).st_size > max_bytes:
            os.truncate(path, 0)
    except OSError:
        pass


def tail(text: str, n: int = 5) -> str:
    lines = [line for line in (text or '').strip().splitlines() if line.strip()]
    return ' | '.join(lines[-n:]) or '(no output)'
