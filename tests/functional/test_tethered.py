"""Children tied to the engine die with it, kill -9 included (procs.py).

A stand-in engine (a Python process) spawns a child from a worker thread
and is killed with SIGKILL; the test then looks for what the child started.
"""
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid

import pytest

from tests.functional import gitserver

ENGINE = textwrap.dedent('''
    import subprocess, sys, threading, time
    from solum_git.common import procs
    wrap = {'plain': list, 'tethered': procs.tethered,
            'tree': procs.tethered_tree}[sys.argv[1]]
    def spawn():
        subprocess.Popen(wrap(['sh', '-c', sys.argv[2]]), start_new_session=True)
        print('spawned', flush=True)
        time.sleep(600)  # a long-lived worker thread, as the engine's are
    threading.Thread(target=spawn, daemon=True).start()
    time.sleep(600)
''')


def _run_and_kill(tmp_path, how, script):
    """Start the stand-in engine, wait for its child, kill -9 it; its descendants."""
    engine = subprocess.Popen([sys.executable, '-c', ENGINE, how, script],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert engine.stdout.readline().strip() == 'spawned'
        marker = script.split()[1]
        gitserver.wait_for(lambda: sum(marker in t for t in
                                       gitserver.descendants(engine.pid).values()) >= 2,
                           timeout=10, what='the child and its grandchild')
        below = gitserver.descendants(engine.pid)
    finally:
        engine.send_signal(signal.SIGKILL)
        engine.wait()
    return below


def _left_after(below, seconds=1.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and gitserver.still_running(below):
        time.sleep(0.02)
    left = gitserver.still_running(below)
    for pid, _started in left:
        os.kill(pid, signal.SIGKILL)
    return left


def _script():
    # the sleeps never write: nothing but a signal ends them early
    seconds = 300 + uuid.uuid4().int % 1000
    return 'sleep %d >/dev/null 2>&1 & sleep %d >/dev/null 2>&1; wait' % (
        seconds, seconds)


def test_a_tethered_tree_dies_whole_with_a_killed_engine(tmp_path):
    below = _run_and_kill(tmp_path, 'tree', _script())
    assert not _left_after(below)


def test_a_tethered_child_dies_with_a_killed_engine(tmp_path):
    script = _script()
    below = _run_and_kill(tmp_path, 'tethered', script)
    left = _left_after(below)
    # the shell itself went at once; what it had started in the background did not
    assert all(not title.startswith('sh -c') for title in left.values()), left


@pytest.mark.parametrize('how', ['plain', 'tethered'])
def test_without_a_pid_namespace_a_grandchild_outlives_the_engine(tmp_path, how):
    """The control: what tethered_tree adds (so the first test can fail)."""
    below = _run_and_kill(tmp_path, how, _script())
    assert _left_after(below, 0.5)
