"""One ssh master connection per tenant git server, for the engine's admin work."""
import hashlib
import os
import shutil
import subprocess
import tempfile
import threading
import time
from typing import Any

from solum_git.common import procs

DIR_PREFIX = 'solum-git-ssh-'


class ConnectError(Exception):
    """The master connection could not be made; the text says why."""


class Multiplexer:
    """One ssh master connection per server, shared by the admin operations.

    Every ssh connection costs a key exchange (~100-300 ms here); git, the
    gitolite commands and the checks of one pass then ride one connection. The
    masters are this process's children: reaped here, closed when idle (an open
    connection holds an sshd child of ~15 MB on the server), and tethered, so
    they die with the engine even when it is killed (and their sshd sessions
    with them). Spawn them from long-lived threads only (procs.py).
    """

    def __init__(self, idle_seconds: float = 30):
        self.idle_seconds = idle_seconds
        _remove_dead_dirs()
        self.dir = tempfile.mkdtemp(prefix='%s%d-' % (DIR_PREFIX, os.getpid()))
        self._masters: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._closed = False

    def socket_for(self, client: Any) -> str:
        ident = '\0'.join([client.host, str(client.port), client.user,
                           client.key_path, _read(client.known_hosts)])
        return os.path.join(self.dir, hashlib.sha256(ident.encode()).hexdigest()[:20])

    def ensure(self, client: Any) -> str:
        """Start the master for ``client``'s server unless one is up; its socket."""
        path = self.socket_for(client)
        with self._lock:
            if self._closed:
                raise ConnectError('the engine is stopping')
            master = self._masters.get(path)
            if master is not None and master[0].poll() is None and os.path.exists(path):
                self._masters[path] = (master[0], time.monotonic())
                return path
            if master is not None:
                _stop(master[0])
            argv = client.ssh_argv(mux=False) + [
                '-M', '-N', '-S', path, '-o', 'ControlPersist=no',
                '-p', str(client.port), '%s@%s' % (client.user, client.host)]
            proc = subprocess.Popen(procs.tethered(argv), stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                    start_new_session=True)
            deadline = time.monotonic() + client.connect_timeout + 5
            while not os.path.exists(path):
                if proc.poll() is not None or time.monotonic() > deadline:
                    _stop(proc)
                    stderr = proc.stderr  # a pipe: stderr=PIPE above
                    err = stderr.read().decode(errors='replace') if stderr else ''
                    if stderr:
                        stderr.close()
                    raise ConnectError('cannot connect to %s:%s: %s' % (
                        client.host, client.port, _last_lines(err) or 'timed out'))
                time.sleep(0.01)
            self._masters[path] = (proc, time.monotonic())
            return path

    def reap(self) -> None:
        """Close idle masters, forget dead ones."""
        now = time.monotonic()
        with self._lock:
            for path, (proc, used) in list(self._masters.items()):
                if proc.poll() is not None or now - used > self.idle_seconds:
                    _stop(proc)
                    del self._masters[path]

    def close(self) -> None:
        with self._lock:
            self._closed = True
            masters, self._masters = self._masters, {}
        for proc, _used in masters.values():
            _stop(proc)
        shutil.rmtree(self.dir, ignore_errors=True)


def _remove_dead_dirs():
    """Socket dirs left by killed engines of this user (named by their pid)."""
    top = tempfile.gettempdir()
    try:
        names = os.listdir(top)
    except OSError:
        return
    for name in names:
        pid = name[len(DIR_PREFIX):].split('-', 1)[0]
        if not (name.startswith(DIR_PREFIX) and pid.isdigit()):
            continue
        path = os.path.join(top, name)
        try:
            st = os.lstat(path)
        except OSError:
            continue
        if st.st_uid == os.geteuid() and not procs.alive(int(pid)) \
                and time.time() - st.st_mtime > 60:
            shutil.rmtree(path, ignore_errors=True)


def _stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc.stderr:
        proc.stderr.close()


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ''


def _last_lines(text, n=6):
    lines = [line.strip() for line in (text or '').strip().splitlines() if line.strip()]
    return ' | '.join(lines[-n:])
