"""The heat provisioner against the fake cloud: real heatclient/novaclient/keystoneauth
over HTTP, the real template's user_data and the real bootstrap in a namespace VM.
"""
import contextlib
import os
import pathlib
import socket
import subprocess
import time
import types
import uuid

import pytest

from solum_git.common import known_hosts
from solum_git import conf as conf_pkg
from solum_git.provisioners import heat as heat_prov
from solum_git.provisioners import hostkeys
from tests.functional import gitserver
from tests.heatserver import HeatServer
from tests import helpers


def need_root():
    if os.geteuid() != 0:
        pytest.fail('the fake cloud boots VMs in namespaces (unshare, mount): run as root')


@contextlib.contextmanager
def heat_api(tmp, **groups):
    """The real solum-git-api (engine in process) with [provisioner] driver = heat
    on a fake cloud of its own: (cloud, api), both stopped after. ``groups``: more
    option groups."""
    need_root()
    cloud = HeatServer(tmp / 'cloud').start()
    try:
        heat = cloud.conf_overrides()
        heat.update(ssh_port=helpers.free_port(), ssh_listen_address='127.0.0.1',
                    http_port=helpers.free_port())
        api = helpers.ApiProcess(tmp, 'sqlite:///%s' % (tmp / 'db.sqlite'), extra=dict({
            'provisioner': {'driver': 'heat'}, 'heat': heat,
            'engine': {'poll_interval': 0.05, 'resync_interval': 3600}}, **groups))
        api.manage('db', 'upgrade')
        api.start()
        try:
            yield cloud, api
        finally:
            api.stop()
    finally:
        cloud.stop()


def make_provisioner(tmp, cloud, **heat):
    settings = cloud.conf_overrides()
    settings.update(ssh_port=helpers.free_port(), ssh_listen_address='127.0.0.1')
    settings.update(heat)
    path = helpers.write_config(pathlib.Path(tmp) / ('%s.conf' % uuid.uuid4().hex[:8]), {
        'DEFAULT': {'state_path': os.path.join(tmp, 'state')},
        'provisioner': {'driver': 'heat'}, 'heat': settings})
    conf = conf_pkg.new()
    conf(['--config-file', str(path)], project='solum-git', default_config_files=[])
    return heat_prov.HeatProvisioner(conf)


def fake_row(project_id):
    """The columns of a stack row the provisioner reads."""
    private, _public = hostkeys.generate()
    return types.SimpleNamespace(uuid=str(uuid.uuid4()), project_id=project_id,
                                 hook_secret=os.urandom(32).hex(), admin_private_key=private,
                                 status='BUILDING', image_id=None)


def wait_state(prov, row, want, timeout=90):
    deadline = time.monotonic() + timeout
    while True:
        state = prov.check(row)
        if state.status == want or time.monotonic() > deadline:
            assert state.status == want, state.reason
            return state
        time.sleep(0.3)


def git_ls_remote(tmp, row, state, known_hosts_line):
    key = pathlib.Path(tmp) / ('admin-%s' % uuid.uuid4().hex[:6])
    key.write_text(row.admin_private_key)
    key.chmod(0o600)
    known = pathlib.Path(str(key) + '.known')
    known.write_text(known_hosts_line + '\n')
    ssh = ('ssh -i %s -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes '
           '-o UserKnownHostsFile=%s -o BatchMode=yes' % (key, known))
    url = 'ssh://%s@%s:%d/gitolite-admin' % (state.ssh_user, state.ssh_host, state.ssh_port)
    return subprocess.run(['git', 'ls-remote', url], env=dict(os.environ, GIT_SSH_COMMAND=ssh),
                          capture_output=True, text=True, timeout=60)


@pytest.fixture(scope='module')
def cloud(tmp_path_factory):
    need_root()
    server = HeatServer(tmp_path_factory.mktemp('cloud')).start()
    yield server
    server.stop()


@pytest.fixture(scope='module')
def built(cloud, tmp_path_factory):
    """One VM git server, built through Heat; deleted by the last test."""
    tmp = str(tmp_path_factory.mktemp('heatvm'))
    prov = make_provisioner(tmp, cloud)
    row = fake_row('project-%s' % uuid.uuid4().hex[:6])
    settings = {'callback_url': 'http://127.0.0.1:9/v1/hooks/post-receive'}
    prov.create(row, settings)
    first = prov.check(row)
    prov.create(row, settings)  # the engine calls it on every pass while building
    state = wait_state(prov, row, 'ACTIVE')
    prov.create(row, settings)
    yield types.SimpleNamespace(prov=prov, row=row, first=first, state=state, tmp=tmp)
    try:
        prov.delete(row)
    except Exception:
        pass


def test_heat_stack_is_building_then_active(built):
    assert built.first.status == 'BUILDING'
    assert built.state.status == 'ACTIVE'
    assert built.state.ssh_host == '127.0.0.1'
    assert built.state.ssh_port == built.prov.conf.heat.ssh_port
    assert built.state.ssh_user == 'git'


def test_one_heat_stack_per_project_with_hidden_secrets(built, cloud):
    name = 'solum-git-' + built.row.project_id
    writes = [r for r in cloud.cloud.requests
              if r[0] in ('POST', 'PUT') and '/stacks' in r[1] and name in r[1] or
              r == ('POST', '/heat/v1/service-project/stacks')]
    assert len([r for r in writes if r[0] == 'PUT']) == 0  # create is idempotent
    stack = cloud.cloud.stacks[name]
    assert built.state.extra['heat_stack_id'] == stack.id
    shown = stack.show()['parameters']
    assert shown['hook_secret'] == '******'
    assert shown['host_private_key'] == '******'
    assert shown['stack_id'] == built.row.uuid


def test_git_over_ssh_pins_the_host_key_solum_git_made(built):
    proc = git_ls_remote(built.tmp, built.row, built.state, built.state.ssh_host_keys)
    assert proc.returncode == 0, proc.stderr
    assert 'HEAD' in proc.stdout or 'refs/heads/' in proc.stdout


def test_another_host_key_is_refused(built):
    _private, other = hostkeys.generate()
    line = known_hosts.line(built.state.ssh_host, built.state.ssh_port, other)
    proc = git_ls_remote(built.tmp, built.row, built.state, line)
    assert proc.returncode != 0
    assert 'Host key verification failed' in proc.stderr


def test_delete_removes_heat_stack_and_server(built, cloud):
    built.prov.delete(built.row)
    assert ('solum-git-' + built.row.project_id) not in cloud.cloud.stacks

    def closed():
        with socket.socket() as s:
            s.settimeout(2)
            return s.connect_ex(('127.0.0.1', built.state.ssh_port)) != 0
    # the namespace's other processes die just after its PID 1
    gitserver.wait_for(closed, timeout=15, what='the VM sshd gone')
    assert built.prov.check(built.row).status == 'ERROR'


def test_failed_heat_stack_is_error_with_reason_then_retried(cloud, tmp_path):
    prov = make_provisioner(str(tmp_path), cloud)
    row = fake_row('project-%s' % uuid.uuid4().hex[:6])
    cloud.cloud.fail_next = ('Resource CREATE failed: ResourceInError: resources.server: '
                             'Went to status ERROR due to "No valid host was found."')
    try:
        prov.create(row, {})
        state = wait_state(prov, row, 'ERROR', timeout=30)
        assert 'CREATE_FAILED' in state.reason and 'No valid host' in state.reason
        prov.create(row, {})  # retry: a stack update of the failed stack
        state = wait_state(prov, row, 'ACTIVE')
        assert cloud.cloud.stacks['solum-git-' + row.project_id].status == 'UPDATE_COMPLETE'
    finally:
        prov.delete(row)


def test_server_that_never_answers_is_error_with_console_log(cloud, tmp_path):
    broken = tmp_path / 'bootstrap.sh'
    broken.write_text('#!/bin/sh\necho "bootstrap: cannot reach the package mirror" >&2\n'
                      'exit 3\n')
    prov = make_provisioner(str(tmp_path), cloud, bootstrap_script=str(broken),
                            boot_timeout=3)
    row = fake_row('project-%s' % uuid.uuid4().hex[:6])
    try:
        prov.create(row, {})
        state = wait_state(prov, row, 'ERROR', timeout=30)
        assert 'boot_timeout' in state.reason
        assert 'cannot reach the package mirror' in state.reason  # Nova's console log
        server_id = cloud.cloud.stacks['solum-git-' + row.project_id].id[:8] + '-server'
        assert ('POST', '/compute/v2.1/servers/%s/action' % server_id) in cloud.cloud.requests
    finally:
        prov.delete(row)
