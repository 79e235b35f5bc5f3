"""A resync asked through the API is an intent in the database: an engine in
another process performs it, and one a killed engine left is done after restart.
"""
import contextlib
import os
import signal
import sqlite3
import subprocess
import time

import pytest

from tests.functional import gitserver
from tests import helpers

PROJECT = 'project-intent'
DRIFT = '''
    set -e
    printf '%%s\\n' '%s' > .gitolite/keydir/u-mallory.pub
    printf 'repo app\\n    RW+ = u-mallory\\n' >> .gitolite/conf/gitolite.conf
    gitolite compile
    gitolite trigger POST_COMPILE
'''


class Engine:
    """A ``solum-git-engine`` process on the API's configuration file."""

    def __init__(self, api, tmp_path, name):
        self.api = api
        self.log_path = tmp_path / ('%s.log' % name)
        self.proc = None

    def start(self):
        self.log = open(self.log_path, 'ab')
        self.proc = subprocess.Popen(
            self.api.argv('engine') + ['--config-file', str(self.api.config)],
            stdout=self.log, stderr=subprocess.STDOUT)
        return self

    def kill(self):
        self.proc.kill()
        self.proc.wait()

    def stop(self):
        if self.proc is not None:
            helpers.stop_process(self.proc)
            self.log.close()


@pytest.fixture
def world(tmp_path):
    with gitserver.stacks_dir() as stacks:
        api = gitserver.GitApi(tmp_path, stacks, extra={'engine': {'in_process': 'false'}})
        engines = []
        try:
            api.start()
            engines.append(Engine(api, tmp_path, 'engine-1').start())
            dev = gitserver.Dev(api, tmp_path, PROJECT, 'alice')
            dev.wait_active(dev.create_repo('app'))
            mallory = gitserver.Dev(api, tmp_path, 'project-other', 'mallory', key=False)
            yield api, dev, engines, (mallory.dir / 'id_ed25519.pub').read_text().strip()
        finally:
            for engine in engines:
                engine.stop()
            api.stop()


def _row(api):
    with contextlib.closing(sqlite3.connect(str(api.db_path), timeout=30)) as db:
        db.row_factory = sqlite3.Row
        return db.execute('SELECT resync_requested, resync_done, lease_owner FROM stacks '
                          'WHERE project_id = ?', (PROJECT,)).fetchone()


def _conf(api, stack_uuid):
    return (api.home(stack_uuid) / '.gitolite' / 'conf' / 'gitolite.conf').read_text()


def _drift(api, stack_uuid, key):
    api.as_git(stack_uuid, DRIFT % key)
    assert 'mallory' in _conf(api, stack_uuid), 'the drift did not take'


def _wait_repaired(api, stack_uuid, wanted):
    def done():
        row = _row(api)
        return (row['resync_done'] == wanted and 'mallory' not in _conf(api, stack_uuid)
                and not (api.home(stack_uuid) / '.gitolite' / 'keydir'
                         / 'u-mallory.pub').exists())
    gitserver.wait_for(done, timeout=90, what='resync %d performed' % wanted)


def test_a_resync_through_the_api_is_done_by_an_engine_in_another_process(world):
    api, dev, engines, key = world
    stack = dev.stack()
    assert _row(api)['resync_requested'] == 0
    _drift(api, stack['uuid'], key)
    api.resync(dev.api, stack['uuid'])
    assert _row(api)['resync_requested'] == 1
    _wait_repaired(api, stack['uuid'], 1)
    # logged just after the row says done
    gitserver.wait_for(lambda: 'stack %s: resync 1 done' % stack['uuid']
                       in engines[0].log_path.read_text(), timeout=10,
                       what='the engine to log the resync')
    # asked twice while nothing runs it: both requests are one pass, done once
    engines[0].stop()
    api.resync(dev.api, stack['uuid'])
    api.resync(dev.api, stack['uuid'])
    assert (_row(api)['resync_requested'], _row(api)['resync_done']) == (3, 1)
    _drift(api, stack['uuid'], key)
    engines.append(Engine(api, api.config.parent, 'engine-2').start())
    _wait_repaired(api, stack['uuid'], 3)


def test_a_resync_left_by_a_killed_engine_is_done_after_restart(world):
    api, dev, engines, key = world
    stack = dev.stack()
    engine = engines[0]
    for attempt in range(5):
        _drift(api, stack['uuid'], key)
        api.resync(dev.api, stack['uuid'])
        wanted = _row(api)['resync_requested']
        gitserver.wait_for(lambda: _row(api)['lease_owner'] is not None
                           or _row(api)['resync_done'] == wanted,
                           timeout=60, interval=0.01, what='the engine at work')
        os.kill(engine.proc.pid, signal.SIGSTOP)
        if _row(api)['resync_done'] < wanted:
            break                   # frozen in the middle of the resync
        os.kill(engine.proc.pid, signal.SIGCONT)
        _wait_repaired(api, stack['uuid'], wanted)
    else:
        pytest.fail('the engine finished every resync before it could be stopped')
    engine.kill()
    time.sleep(1)
    row = _row(api)
    assert row['resync_done'] < row['resync_requested'] == wanted, dict(row)
    engines.append(Engine(api, api.config.parent, 'engine-2').start())
    _wait_repaired(api, stack['uuid'], wanted)
