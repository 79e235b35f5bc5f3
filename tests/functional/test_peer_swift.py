"""The real Swift test peer (tests/peers/swift.py) does what the backup store will rely on:
objects put, got, listed and deleted with python-swiftclient, segmented (SLO) uploads,
accounts kept apart, and the same cluster behind the real Keystone."""
import hashlib
import io
import json
import os

import pytest
from swiftclient import client as swift_client
from swiftclient import exceptions as swift_exc


def test_put_get_list_delete_an_object(swift):
    conn = swift.admin.connection()
    conn.put_container('put-get')
    etag = conn.put_object('put-get', 'refs/a.bundle', b'bundle bytes',
                           headers={'X-Object-Meta-Kind': 'full'})
    assert etag == hashlib.md5(b'bundle bytes').hexdigest()
    headers, body = conn.get_object('put-get', 'refs/a.bundle')
    assert body == b'bundle bytes'
    assert headers['x-object-meta-kind'] == 'full'  # metadata lives in xattrs
    assert [o['name'] for o in conn.get_container('put-get', prefix='refs/')[1]] == [
        'refs/a.bundle']
    conn.delete_object('put-get', 'refs/a.bundle')
    with pytest.raises(swift_exc.ClientException) as e:
        conn.get_object('put-get', 'refs/a.bundle')
    assert e.value.http_status == 404
    assert conn.get_container('put-get')[1] == []
    conn.delete_container('put-get')


def test_an_object_keeps_nearly_4_kib_of_metadata(swift):
    """Swift allows 4 KiB of user metadata, kept in xattrs (ext4 has room for ~3 KiB)."""
    conn = swift.admin.connection()
    conn.put_container('meta')
    headers = {'X-Object-Meta-Ref-%02d' % i: '%040x' % i for i in range(80)}
    conn.put_object('meta', 'refs', b'', headers=headers)
    got = conn.head_object('meta', 'refs')
    assert {k: got[k.lower()] for k in headers} == headers


def test_a_segmented_upload_reads_back_whole(swift):
    """A 3 MiB static large object in 320 KiB segments, then deleted with its segments.

    Ten segments: Swift's SLO reads more than ``rate_limit_after_segment`` (10)
    at ``rate_limit_segments_per_sec`` (1) by default."""
    conn = swift.admin.connection()
    conn.put_container('slo')
    conn.put_container('slo_segments')
    data = os.urandom(3 * 1024 * 1024 + 1234)
    size = 320 * 1024
    manifest = []
    for n, start in enumerate(range(0, len(data), size)):
        chunk = data[start:start + size]
        name = 'big.bundle/%08d' % n
        etag = conn.put_object('slo_segments', name, io.BytesIO(chunk), content_length=len(chunk))
        manifest.append({'path': '/slo_segments/' + name, 'etag': etag, 'size_bytes': len(chunk)})
    assert len(manifest) == 10
    conn.put_object('slo', 'big.bundle', json.dumps(manifest),
                    query_string='multipart-manifest=put')

    headers, body = conn.get_object('slo', 'big.bundle')
    assert headers['x-static-large-object'] == 'True'
    assert int(headers['content-length']) == len(data)
    assert hashlib.sha256(body).digest() == hashlib.sha256(data).digest()
    # a range read crosses a segment boundary
    _, part = conn.get_object('slo', 'big.bundle',
                              headers={'Range': 'bytes=%d-%d' % (size - 10, size + 9)})
    assert part == data[size - 10:size + 10]

    conn.delete_object('slo', 'big.bundle', query_string='multipart-manifest=delete')
    assert conn.get_container('slo_segments')[1] == []
    assert conn.get_container('slo')[1] == []


def test_swiftclient_segments_a_large_upload_itself(swift, tmp_path):
    """python-swiftclient's own SwiftService splits a file into SLO segments."""
    from swiftclient import service
    path = tmp_path / 'big.bundle'
    path.write_bytes(os.urandom(2 * 1024 * 1024))
    options = {'auth': swift.admin.auth_url, 'user': swift.admin.user, 'key': swift.admin.key,
               'auth_version': '1', 'segment_size': 512 * 1024, 'use_slo': True}
    with service.SwiftService(options=options) as svc:
        results = list(svc.upload('svc', [service.SwiftUploadObject(str(path),
                                                                    object_name='big.bundle')]))
    assert all(r['success'] for r in results), results
    headers, body = swift.admin.connection().get_object('svc', 'big.bundle')
    assert headers['x-static-large-object'] == 'True'
    assert body == path.read_bytes()
    segments = swift.admin.connection().get_container('svc_segments')[1]
    assert len(segments) == 4


def test_the_preauth_url_and_token_work_and_a_wrong_token_does_not(swift):
    storage_url, token = swift.admin.preauth()
    assert storage_url.endswith('/v1/' + swift.admin.account)
    conn = swift_client.Connection(preauthurl=storage_url, preauthtoken=token, retries=0)
    conn.put_container('preauth')
    assert conn.head_container('preauth')['x-container-object-count'] == '0'
    with pytest.raises(swift_exc.ClientException) as e:
        swift_client.head_container(storage_url, 'AUTH_tk' + 'f' * 32, 'preauth')
    assert e.value.http_status == 401


def test_another_account_and_a_non_admin_user_cannot_read(swift):
    conn = swift.admin.connection()
    conn.put_container('private')
    conn.put_object('private', 'o', b'secret')
    storage_url, _ = swift.admin.preauth()
    for user in (swift.other_admin, swift.reader):
        _, token = user.preauth()
        with pytest.raises(swift_exc.ClientException) as e:
            swift_client.get_object(storage_url, token, 'private', 'o')
        assert e.value.http_status == 403, user.user


def test_swift_behind_keystone_through_a_keystoneauth1_session(swift_keystone, keystone):
    alice = keystone.make_user(roles=('member',))
    conn = swift_keystone.connection(alice)
    conn.put_container('ks')
    conn.put_object('ks', 'o', b'via keystone')
    assert conn.get_object('ks', 'o')[1] == b'via keystone'
    # the catalog's object-store endpoint, on the project's own account
    assert conn.url == '%s/v1/AUTH_%s' % (swift_keystone.url, alice.project_id)

    mallory = keystone.make_user(roles=('member',))
    token = keystone.token(mallory)
    with pytest.raises(swift_exc.ClientException) as e:
        swift_client.get_object(conn.url, token, 'ks', 'o')
    assert e.value.http_status == 403
    with pytest.raises(swift_exc.ClientException) as e:
        swift_client.get_object(conn.url, 'not-a-token', 'ks', 'o')
    assert e.value.http_status == 401
