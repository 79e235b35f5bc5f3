"""tools/quickstart.sh as a newcomer runs it, twice: the second says so in one line
and changes nothing of the running one (no chmod, no config rewrite, no set-up)."""
import hashlib
import os
import pathlib
import socket
import subprocess
import time

import requests

from tests import helpers

QUICKSTART = str(pathlib.Path(__file__).resolve().parents[2] / 'tools' / 'quickstart.sh')


def _snapshot(state):
    """Every file and directory of the state: mode, owner, change time, contents."""
    seen = {}
    for path in [state] + sorted(state.rglob('*')):
        st = path.lstat()
        digest = None
        if path.is_file() and not path.name.endswith(('.sqlite', '-journal', '-wal')):
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        seen[str(path.relative_to(state))] = (st.st_mode, st.st_uid, st.st_ctime_ns,
                                              st.st_mtime_ns, digest)
    return seen


def _start(env, log_path):
    for _attempt in range(3):
        port = helpers.free_port()
        env['SOLUM_GIT_PORT'] = str(port)
        with open(log_path, 'ab') as log:
            proc = subprocess.Popen([QUICKSTART], env=env, stdout=log, stderr=log,
                                    stdin=subprocess.DEVNULL)
        try:
            helpers.wait_for_own_http('http://127.0.0.1:%d/' % port, proc, port,
                                      timeout=180, log_path=log_path)
            return proc, port
        except helpers.PortTaken:
            helpers.stop_process(proc)
    raise AssertionError('no free port for the quickstart')


def test_a_second_quickstart_refuses_in_one_line_and_touches_nothing(tmp_path):
    state = tmp_path / 'state'
    env = dict(os.environ, SOLUM_GIT_STATE=str(state))
    first, port = _start(env, tmp_path / 'first.log')
    try:
        before = _snapshot(state)
        time.sleep(0.05)  # a rewrite in the same clock tick would keep the times
        second = subprocess.run([QUICKSTART], env=env, capture_output=True, text=True,
                                stdin=subprocess.DEVNULL, timeout=60)
        assert second.returncode == 1
        assert second.stdout == ''
        assert second.stderr.splitlines() == [
            'solum-git is already running on http://127.0.0.1:%d (pid %d); stop it '
            '(kill %d) or start another with SOLUM_GIT_STATE=<dir> SOLUM_GIT_PORT=<port>'
            % (port, first.pid, first.pid)]
        assert _snapshot(state) == before
        assert first.poll() is None
        assert requests.get('http://127.0.0.1:%d/' % port, timeout=10).ok
        # another port changes nothing either: the state is the running one's
        second = subprocess.run([QUICKSTART], env=dict(env, SOLUM_GIT_PORT='1'),
                                capture_output=True, text=True, timeout=60)
        assert second.returncode == 1 and 'already running on http://127.0.0.1:%d ' % port \
            in second.stderr
        assert _snapshot(state) == before
    finally:
        helpers.stop_process(first, 30)
    assert first.returncode == 0, (tmp_path / 'first.log').read_text()[-3000:]


def test_a_quickstart_on_a_port_in_use_names_it_and_stops(tmp_path):
    state = tmp_path / 'state'
    with socket.socket() as other:  # some other program, listening
        other.bind(('127.0.0.1', 0))
        other.listen()
        busy = other.getsockname()[1]
        done = subprocess.run([QUICKSTART], env=dict(
            os.environ, SOLUM_GIT_STATE=str(state), SOLUM_GIT_PORT=str(busy)),
            capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        'port %d on 127.0.0.1 is in use (pid %d); choose another with '
        'SOLUM_GIT_PORT=<port>' % (busy, os.getpid())]
    assert not (state / 'solum-git.conf').exists()
