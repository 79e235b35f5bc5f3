"""Backups in the real Swift test peer (behind the real Keystone, through a
keystoneauth1 session): written there with big bundles in segments, and a
lost repo restored from there.
"""
import os
import shutil
import types

import pytest
from swiftclient import client as swift_client

from tests.functional import gitserver
from tests.functional import test_git_backups as local_tests
from tests.peers import keystone as ks_peer

PROJECT = 'project-s'


@pytest.fixture(scope='module')
def world(tmp_path_factory, swift_keystone, keystone):
    tmp = tmp_path_factory.mktemp('backups-swift')
    user = keystone.make_user(roles=('member',))
    with gitserver.stacks_dir() as stacks:
        api = gitserver.GitApi(tmp, stacks, extra={
            'backup': {'store': 'swift', 'max_lag': 2},
            'backup_swift': {'auth_type': 'password', 'auth_url': keystone.url,
                             'username': user.name, 'password': user.password,
                             'project_name': user.project_name,
                             'user_domain_id': ks_peer.DOMAIN,
                             'project_domain_id': ks_peer.DOMAIN,
                             # 64 KiB segments: a few hundred KiB of history is a
                             # static large object
                             'segment_size': 64 * 1024}})
        api.start()
        try:
            w = types.SimpleNamespace(api=api, tmp=tmp, user=user)
            w.conn = swift_keystone.connection(user)
            w.alice = gitserver.Dev(api, tmp, PROJECT, 'alice')
            w.repo = w.alice.wait_active(w.alice.create_repo('app'))
            w.stack = w.alice.pin()
            done, w.work = w.alice.clone(w.repo['git_url'], 'work')
            assert done.returncode == 0, done.stderr
            yield w
        finally:
            api.stop()


def test_backups_go_to_swift_in_segments_and_a_lost_repo_comes_back_from_there(world):
    # incompressible content: the full bundle is larger than one segment
    world.alice.commit(world.work, 'big', files={'blob.bin': os.urandom(300 * 1024).hex()})
    assert world.alice.push(world.work).returncode == 0
    refs = local_tests.server_refs(world, 'app')
    full = local_tests.wait_covered(world, world.repo, refs)[0]
    assert full['size_bytes'] > 3 * 64 * 1024
    container = 'solum-git-backups-%s' % world.stack['uuid']
    names = [o['name'] for o in world.conn.get_container(container)[1]]
    bundle = [n for n in names if n.endswith('%s.bundle' % full['uuid'])]
    assert bundle and '%s/latest.json' % world.repo['uuid'] in names
    headers = world.conn.head_object(container, bundle[0])
    assert headers['x-static-large-object'] == 'True'
    assert len(world.conn.get_container(container + '_segments')[1]) >= 3

    world.alice.commit(world.work, 'small')
    assert world.alice.push(world.work).returncode == 0
    refs = local_tests.server_refs(world, 'app')
    local_tests.wait_covered(world, world.repo, refs)

    shutil.rmtree(str(world.api.home(world.stack['uuid']) / 'repositories' / 'app.git'))
    world.api.resync(world.alice.api, world.stack['uuid'])
    gitserver.wait_for(lambda: local_tests.server_refs(world, 'app') == refs, timeout=60,
                       what='app restored from Swift')
    local_tests._reason(world, world.repo, 'restored from backup')


def test_the_backups_are_not_readable_with_another_projects_token(world, keystone,
                                                                  swift_keystone):
    local_tests.wait_covered(world, world.repo, local_tests.server_refs(world, 'app'))
    mallory = keystone.make_user(roles=('member',))
    conn = swift_keystone.connection(world.user)
    container = 'solum-git-backups-%s' % world.stack['uuid']
    name = conn.get_container(container)[1][0]['name']
    with pytest.raises(swift_client.ClientException) as e:
        swift_client.get_object(conn.url, keystone.token(mallory), container, name)
    assert e.value.http_status == 403
