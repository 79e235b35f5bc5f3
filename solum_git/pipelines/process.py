"""Child processes of runs: output into the run's log, bounded in time, killed whole."""
import os
import signal
import subprocess
import threading
import time

# the only parts of the service's environment a tenant's command sees
_KEEP = ('PATH', 'HOME', 'LANG', 'LC_ALL', 'TMPDIR', 'TZ')


class Stopped(Exception):
    """The command ran out of time or the engine stopped; it has been killed."""


def clean_env(extra=None):
    env = {k: os.environ[k] for k in _KEEP if k in os.environ}
    env.setdefault('PATH', '/usr/local/bin:/usr/bin:/bin')
    env.setdefault('LANG', 'C.UTF-8')
    env.update(extra or {})
    return env


def _copy(stream, log):
    for line in iter(stream.readline, b''):
        log.write(line.decode('utf-8', 'replace'))
    stream.close()


def kill_group(proc, grace=5.0):
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


def run(argv, cwd, env, log, timeout, stopping):
    """Run to completion; return the exit code. Raises Stopped (process killed)."""
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    reader = threading.Thread(target=_copy, args=(proc.stdout, log), daemon=True)
    reader.start()
    deadline = time.monotonic() + timeout
    while True:
        try:
            code = proc.wait(0.1)
            break
        except subprocess.TimeoutExpired:
            if stopping.is_set():
                kill_group(proc)
                raise Stopped('stopped: the engine is stopping')
            if time.monotonic() > deadline:
                kill_group(proc)
                raise Stopped('timed out after %d s' % timeout)
    # background children keep the pipe open: do not wait on them forever
    reader.join(2)
    return code


def shell(command, cwd, env, log, timeout, stopping):
    return run(['/bin/sh', '-c', command], cwd, env, log, timeout, stopping)
