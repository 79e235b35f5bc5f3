"""Drift repair and restarts: what is changed or killed behind solum-git's back
comes back, on a resync action or by itself; a restarted API serves again.
"""
import os
import pathlib
import signal
import time
import types

import pytest

from tests.functional import gitserver

PROJECT = 'project-d'


@pytest.fixture
def world(module_world):
    """Each test starts with the engine idle: no pass still repairing the last one."""
    module_world.api.wait_applied(PROJECT)
    return module_world


@pytest.fixture(scope='module')
def module_world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('drift')
    with gitserver.running_api(tmp) as api:
        # mallory is a real user of the same project with no repo: no access
        w = gitserver.team(api, tmp, alice=PROJECT, mallory=PROJECT)
        w.repo = w.alice.wait_active(w.alice.create_repo('app'))
        w.stack = w.alice.pin()
        w.mallory.pin(w.stack)
        w.work, _base = w.alice.seed(w.repo, 'work', 'base')
        yield w


def _can_read(dev, url):
    return dev.ls_remote(url).returncode == 0


def _pushes(w, message):
    w.alice.commit(w.work, message)
    done = w.alice.push(w.work)
    assert done.returncode == 0, done.stderr


def _sshd_pid(w):
    """The pid sshd wrote, or None between an exit and the next start."""
    try:
        return int((w.api.sshd_dir(w.stack['uuid']) / 'sshd.pid').read_text())
    except (OSError, ValueError):
        return None


def _mallory_key(w):
    return ' '.join(open(str(w.mallory.key) + '.pub').read().split()[:2])


def test_killed_sshd_is_restarted(world):
    old = _sshd_pid(world)
    os.kill(old, signal.SIGKILL)
    gitserver.wait_for(lambda: _sshd_pid(world) not in (None, old)
                       and _can_read(world.alice, world.repo['git_url']),
                       timeout=30, what='a new sshd')
    _pushes(world, 'after a crash')


def test_a_server_whose_pid_file_went_is_found_again_not_started_twice(world):
    old = _sshd_pid(world)
    pidfile = world.api.sshd_dir(world.stack['uuid']) / 'sshd.pid'
    pidfile.unlink()
    world.api.resync(world.alice.api, world.stack['uuid'])
    gitserver.wait_for(lambda: _sshd_pid(world) is not None, timeout=60,
                       what='the pid file written again')
    world.api.wait_applied(PROJECT)
    assert _sshd_pid(world) == old
    assert gitserver.sshd_listeners(world.api.stacks_path) == [old]
    _pushes(world, 'after the pid file went')


def test_conf_and_keydir_changed_on_the_server_are_put_back(world):
    uuid = world.stack['uuid']
    # someone with a shell on the server grants mallory access by hand
    world.api.as_git(uuid, '''
        set -e
        printf '%%s\\n' '%s' > .gitolite/keydir/u-mallory.pub
        printf 'repo app\\n    RW+ = u-mallory\\n' >> .gitolite/conf/gitolite.conf
        gitolite compile
        gitolite trigger POST_COMPILE
    ''' % _mallory_key(world))
    assert _can_read(world.mallory, world.repo['git_url']), 'the drift did not take'
    world.api.resync(world.alice.api, uuid)
    gitserver.wait_for(lambda: not _can_read(world.mallory, world.repo['git_url']),
                       timeout=60, what='mallory locked out again')
    conf = world.api.home(uuid) / '.gitolite' / 'conf' / 'gitolite.conf'
    gitserver.wait_for(lambda: 'mallory' not in conf.read_text(), timeout=60,
                       what='the conf put back')
    assert not (world.api.home(uuid) / '.gitolite' / 'keydir' / 'u-mallory.pub').exists()
    _pushes(world, 'after conf drift')


def test_key_added_to_authorized_keys_is_removed(world):
    uuid = world.stack['uuid']
    world.api.as_git(uuid, '''
        printf 'command="/usr/share/gitolite3/gitolite-shell u-alice",no-pty %s\\n' \\
            >> .ssh/authorized_keys
    ''' % _mallory_key(world))
    assert _can_read(world.mallory, world.repo['git_url']), 'the drift did not take'
    world.api.resync(world.alice.api, uuid)
    gitserver.wait_for(lambda: not _can_read(world.mallory, world.repo['git_url']),
                       timeout=60, what='the foreign key removed')
    _pushes(world, 'after authorized_keys drift')


def test_gitolite_admin_changed_on_the_server_is_put_back(world):
    uuid = world.stack['uuid']
    # a push to gitolite-admin that did not come from solum-git
    world.api.as_git(uuid, '''
        set -e
        rm -rf /tmp/sg-admin-$$
        git clone -q repositories/gitolite-admin.git /tmp/sg-admin-$$
        cd /tmp/sg-admin-$$
        printf '%%s\\n' '%s' > keydir/u-mallory.pub
        printf 'repo app\\n    R = u-mallory\\n' >> conf/gitolite.conf
        git add -A
        git -c user.name=x -c user.email=x@y commit -q -m drift
        gitolite push -q origin master
        rm -rf /tmp/sg-admin-$$
    ''' % _mallory_key(world))
    assert _can_read(world.mallory, world.repo['git_url']), 'the drift did not take'
    world.api.resync(world.alice.api, uuid)
    gitserver.wait_for(lambda: not _can_read(world.mallory, world.repo['git_url']),
                       timeout=60, what='gitolite-admin put back')


def test_removed_hook_and_edited_rc_are_put_back(world):
    uuid = world.stack['uuid']
    home = world.api.home(uuid)
    hook = home / 'repositories' / 'app.git' / 'hooks' / 'post-receive'
    assert os.path.islink(str(hook))
    world.api.as_git(uuid, '''
        rm repositories/app.git/hooks/post-receive
        printf '# edited\\n' >> .gitolite.rc
    ''')
    world.api.resync(world.alice.api, uuid)
    gitserver.wait_for(lambda: os.path.islink(str(hook)), timeout=60,
                       what='the post-receive hook back')
    rc = (home / '.gitolite.rc').read_text()
    gitserver.wait_for(lambda: '# edited' not in (home / '.gitolite.rc').read_text(),
                       timeout=60, what='the rc put back')
    assert 'LOCAL_CODE' in rc


def test_an_outdated_hook_program_is_replaced(world):
    uuid = world.stack['uuid']
    installed = world.api.home(uuid) / '.solum-git' / 'bin' / 'solum-git-hook'
    current = (pathlib.Path(__file__).resolve().parents[2] / 'solum_git' / 'hook'
               / 'main.py').read_text()
    assert installed.read_text() == current
    world.api.as_git(uuid, 'printf "# an older version\\n" >> .solum-git/bin/solum-git-hook')
    assert installed.read_text() != current
    # not a resync (that re-runs the whole bootstrap anyway): any drift check
    # notices; a killed sshd brings one right away
    os.kill(_sshd_pid(world), signal.SIGKILL)
    gitserver.wait_for(lambda: installed.read_text() == current, timeout=60,
                       what='the current hook program installed')
    _pushes(world, 'after a hook upgrade')


def test_edited_sshd_config_is_put_back(world):
    uuid = world.stack['uuid']
    config = world.api.sshd_dir(uuid) / 'sshd_config'
    original = config.read_text()
    old_pid = _sshd_pid(world)
    config.write_text(original.replace('PasswordAuthentication no',
                                       'PasswordAuthentication yes'))
    world.api.resync(world.alice.api, uuid)
    gitserver.wait_for(lambda: config.read_text() == original
                       and _sshd_pid(world) not in (None, old_pid),
                       timeout=60, what='sshd_config restored and sshd restarted')
    gitserver.wait_for(lambda: _can_read(world.alice, world.repo['git_url']), timeout=30,
                       what='the restarted sshd answering')
    _pushes(world, 'after sshd drift')


def test_pushes_work_while_the_api_is_down_and_after_its_restart(world):
    host_keys = world.stack['ssh_host_keys']
    old = _sshd_pid(world)
    world.api.stop_api()
    # the git server is not the API's child: it keeps serving
    assert gitserver.sshd_listeners(world.api.stacks_path) == [old]
    _pushes(world, 'while the API is down')
    world.api.start()
    gitserver.wait_for(lambda: world.api.stack_row(PROJECT)['lease_owner'] is None
                       and 'adopted' in world.api.log_path.read_text(), timeout=60,
                       what='the restarted engine to adopt the server')
    assert _sshd_pid(world) == old
    assert world.alice.stack()['ssh_host_keys'] == host_keys
    _pushes(world, 'after the restart')


def test_drift_is_repaired_without_being_asked(tmp_path):
    with gitserver.stacks_dir() as stacks:
        api = gitserver.GitApi(tmp_path, stacks, extra={'engine': {'resync_interval': 2}})
        api.start()
        try:
            alice = gitserver.Dev(api, tmp_path, PROJECT, 'alice')
            mallory = gitserver.Dev(api, tmp_path, PROJECT, 'mallory')
            repo = alice.wait_active(alice.create_repo('app'))
            stack = alice.pin()
            mallory.pin(stack)
            key = ' '.join(open(str(mallory.key) + '.pub').read().split()[:2])
            api.as_git(stack['uuid'], '''
                printf 'command="/usr/share/gitolite3/gitolite-shell u-alice" %s\\n' \\
                    >> .ssh/authorized_keys
            ''' % key)
            started = time.monotonic()
            gitserver.wait_for(lambda: not _can_read(mallory, repo['git_url']), timeout=60,
                               what='the periodic check removing the key')
            assert time.monotonic() - started < 30
            assert _can_read(alice, repo['git_url'])
        finally:
            api.stop()


def test_a_killed_sshd_is_restarted_long_before_the_poll(tmp_path):
    """The provisioner looks at its servers' processes every second, between the
    engine's looks at the database: a dead server does not wait for the poll."""
    poll = 120
    with gitserver.stacks_dir() as stacks:
        api = gitserver.GitApi(tmp_path, stacks, extra={'engine': {'poll_interval': poll}})
        api.start()
        try:
            alice = gitserver.Dev(api, tmp_path, PROJECT, 'alice')
            repo = alice.wait_active(alice.create_repo('app'))
            w = types.SimpleNamespace(api=api, stack=alice.pin())
            old = _sshd_pid(w)
            os.kill(old, signal.SIGKILL)
            started = time.monotonic()
            gitserver.wait_for(lambda: _sshd_pid(w) not in (None, old)
                               and _can_read(alice, repo['git_url']),
                               timeout=poll / 2, what='a new sshd')
            assert time.monotonic() - started < poll / 4
        finally:
            api.stop()
