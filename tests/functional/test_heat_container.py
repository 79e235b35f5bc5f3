"""The Heat container path: OS::Zun::Container "started" by the fake cloud as the
real container image (images/Dockerfile, built with buildah) under podman.
"""
import fcntl
import os
import subprocess
import types
import uuid

import pytest

from tests.functional import test_heat_provisioner as vmtest
from tests.heatserver import HeatServer

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
IMAGE = 'localhost/solum-git:latest'


def ensure_image():
    """The image as of this tree: rebuilt only if its inputs changed (one lock for
    both xdist workers); tools/setup-heat.sh normally built it already."""
    out = os.path.join(TOP, '.images')
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, '.build.lock'), 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        proc = subprocess.run([os.path.join(TOP, 'tools', 'build-images.sh'), 'container'],
                              capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, proc.stderr[-3000:]


@pytest.fixture(scope='module')
def container(tmp_path_factory):
    vmtest.need_root()
    ensure_image()
    tmp = str(tmp_path_factory.mktemp('heatct'))
    # the fake Zun host runs containers on the host network, sshd on loopback only
    server = HeatServer(tmp, container_env={'SOLUM_GIT_SSH_LISTEN': '127.0.0.1'}).start()
    prov = vmtest.make_provisioner(tmp, server, server_type='container')
    row = vmtest.fake_row('project-%s' % uuid.uuid4().hex[:6])
    prov.create(row, {'callback_url': 'http://127.0.0.1:9/v1/hooks/post-receive'})
    state = vmtest.wait_state(prov, row, 'ACTIVE', timeout=120)
    yield types.SimpleNamespace(server=server, prov=prov, row=row, state=state, tmp=tmp)
    try:
        prov.delete(row)
    finally:
        server.stop()


def test_container_git_server_is_active_and_serves_git_with_pinned_key(container):
    assert container.state.ssh_host == '127.0.0.1'
    proc = vmtest.git_ls_remote(container.tmp, container.row, container.state,
                                container.state.ssh_host_keys)
    assert proc.returncode == 0, proc.stderr


def test_container_was_started_from_the_template_environment(container):
    stack = container.server.cloud.stacks['solum-git-' + container.row.project_id]
    env = stack.machine.environment
    assert env['SOLUM_GIT_STACK_ID'] == container.row.uuid
    assert env['SOLUM_GIT_HOOK_SECRET'] == container.row.hook_secret
    assert stack.machine.image == IMAGE
    assert 'solum-git: container ready' in stack.machine.console()


def test_container_delete_removes_it(container):
    stack = container.server.cloud.stacks['solum-git-' + container.row.project_id]
    name = stack.machine.name
    container.prov.delete(container.row)
    proc = subprocess.run(['podman', '--storage-driver', 'vfs', 'container', 'exists', name])
    assert proc.returncode != 0
