"""The processes of a test peer: one log file each, a readiness wait, a stop that reaps."""
import os
import pathlib
import subprocess
import time
import urllib.parse
from typing import Dict, Optional, Sequence

import requests

from tests import helpers

TOP = pathlib.Path(__file__).resolve().parents[2]


class PeerError(RuntimeError):
    """A peer could not be set up or started (the message carries its log's tail)."""


def testenv(name: str) -> pathlib.Path:
    """The bin/ of ``.venv-<name>``, made first by ``tools/<name>-testenv.sh`` if needed.

    Idempotent and quick once made; a failure here fails the test, never skips it.
    """
    script = TOP / 'tools' / ('%s-testenv.sh' % name)
    result = subprocess.run([str(script)], capture_output=True, text=True, timeout=1200)
    if result.returncode != 0:
        raise PeerError('%s failed:\n%s' % (script, result.stderr[-4000:]))
    return TOP / ('.venv-%s' % name) / 'bin'


def run(commands: Dict[str, Sequence], logdir: pathlib.Path, env: Optional[dict] = None,
        timeout: float = 120) -> None:
    """Set-up commands side by side, ``{name: argv}``, each logged to ``logdir/<name>.log``."""
    running = {}
    for name, argv in commands.items():
        log_path = logdir / ('%s.log' % name)
        with open(log_path, 'ab') as log:
            running[name] = (log_path, subprocess.Popen(
                [str(a) for a in argv], stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, env=env))
    failed = []
    for name, (log_path, proc) in running.items():
        try:
            code = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
        if code != 0:
            failed.append('%s exited %s:\n%s' % (name, code, tail(log_path)))
    if failed:
        raise PeerError('\n'.join(failed))


def tail(path: pathlib.Path, lines: int = 40) -> str:
    try:
        return '\n'.join(path.read_text(errors='replace').splitlines()[-lines:])
    except FileNotFoundError:
        return '(no log)'


class Process:
    """A server of a peer, its stdout and stderr in ``log_path``."""

    def __init__(self, name: str, argv: Sequence[str], log_path: pathlib.Path,
                 env: Optional[dict] = None, cwd: Optional[pathlib.Path] = None):
        self.name = name
        self.cwd = cwd
        self.argv = [str(a) for a in argv]
        self.log_path = log_path
        self.env = env
        self.proc: Optional[subprocess.Popen] = None

    def start(self) -> 'Process':
        with open(self.log_path, 'ab') as log:
            self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=self.env,
                                         cwd=self.cwd)
        return self

    def wait_http(self, url: str, timeout: float = 60) -> None:
        """Until ``url`` answers anything below 500 (the process dying fails at once)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise PeerError('%s exited %s:\n%s' % (self.name, self.proc.returncode,
                                                       tail(self.log_path)))
            try:
                answered = requests.get(url, timeout=2).status_code < 500
            except requests.RequestException:
                answered = False
            if answered:
                # the answer must be this server's, not another test's on a port it took
                port = urllib.parse.urlsplit(url).port
                owners = helpers.listening_pids(port)
                if self.proc.pid in owners:
                    return
                if owners:
                    raise PeerError('%s: port %d is pid %s\'s, not this server\'s (pid %d)'
                                    % (self.name, port, sorted(owners), self.proc.pid))
            time.sleep(0.05)
        raise PeerError('%s did not answer %s in %ss:\n%s' % (
            self.name, url, timeout, tail(self.log_path)))

    def stop(self, timeout: float = 10) -> None:
        if self.proc is not None:
            helpers.stop_process(self.proc, timeout)
        self.proc = None


def environ(**extra: str) -> dict:
    env = dict(os.environ)
    env.update(extra)
    return env
