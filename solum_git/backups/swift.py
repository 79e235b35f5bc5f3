"""``swift``: the OpenStack object store, through python-swiftclient and a
keystoneauth1 session (``[backup_swift]``'s auth options).

One container per stack (``container_prefix`` + stack uuid). A bundle larger
than ``segment_size`` is a static large object: its segments in
``<container>_segments``, then the manifest; deleting it deletes them too.
"""
import hashlib
import json
import threading

from keystoneauth1 import loading as ks_loading
from swiftclient import client as swift_client
from swiftclient import exceptions as swift_exc

from solum_git.backups import base
from solum_git.conf import backup as backup_conf


class SwiftStore(base.Store):
    name = 'swift'

    def __init__(self, conf):
        super().__init__(conf)
        self._local = threading.local()
        self._session = None
        self._lock = threading.Lock()
        self._containers = set()

    def session(self):
        with self._lock:
            if self._session is None:
                group = backup_conf.SWIFT_GROUP
                auth = ks_loading.load_auth_from_conf_options(self.conf, group)
                if auth is None:
                    raise base.StoreError('[backup_swift]: no auth_type set; the swift '
                                          'store needs credentials')
                self._session = ks_loading.load_session_from_conf_options(
                    self.conf, group, auth=auth)
            return self._session

    def connection(self):
        # swiftclient's Connection is not thread-safe: one per thread
        conn = getattr(self._local, 'conn', None)
        if conn is None:
            opts = self.conf.backup_swift
            os_options = {'endpoint_type': opts.endpoint_type}
            if opts.region_name:
                os_options['region_name'] = opts.region_name
            conn = swift_client.Connection(session=self.session(), os_options=os_options,
                                           retries=2)
            self._local.conn = conn
        return conn

    def _container(self, stack_uuid):
        name = self.conf.backup_swift.container_prefix + stack_uuid
        if name not in self._containers:
            conn = self.connection()
            conn.put_container(name)
            conn.put_container(name + '_segments')
            self._containers.add(name)
        return name

    def _call(self, what, location, fn):
        try:
            return fn()
        except swift_exc.ClientException as e:
            raise base.StoreError('swift %s %s: %s' % (what, location, e))

    def put(self, stack_uuid, location, stream, size):
        container = self._container(stack_uuid)
        segment = self.conf.backup_swift.segment_size
        conn = self.connection()

        def upload():
            if size <= segment:
                conn.put_object(container, location, _Exactly(stream, size),
                                content_length=size)
                return size
            manifest, done, n = [], 0, 0
            while done < size:
                part = _Exactly(stream, min(segment, size - done))
                name = '%s/%08d' % (location, n)
                etag = conn.put_object(container + '_segments', name, part,
                                       content_length=part.size)
                # Swift's ETag is the segment's MD5 by protocol: an integrity check,
                # not a security one
                if etag != part.md5.hexdigest():
                    raise base.StoreError('swift put %s: segment %d etag mismatch'
                                          % (location, n))
                manifest.append({'path': '/%s_segments/%s' % (container, name),
                                 'etag': etag, 'size_bytes': part.size})
                done += part.size
                n += 1
            conn.put_object(container, location, json.dumps(manifest),
                            query_string='multipart-manifest=put')
            return size
        return self._call('put', location, upload)

    def put_bytes(self, stack_uuid, location, data):
        container = self._container(stack_uuid)
        self._call('put', location, lambda: self.connection().put_object(
            container, location, data, content_length=len(data)))
        return len(data)

    def open(self, stack_uuid, location):
        container = self._container(stack_uuid)
        _headers, body = self._call('get', location, lambda: self.connection().get_object(
            container, location, resp_chunk_size=1 << 20))
        return _Reader(body, location)

    def delete(self, stack_uuid, location):
        container = self._container(stack_uuid)
        conn = self.connection()
        try:
            headers = conn.head_object(container, location)
            query = ('multipart-manifest=delete'
                     if headers.get('x-static-large-object') == 'True' else None)
            conn.delete_object(container, location, query_string=query)
        except swift_exc.ClientException as e:
            if e.http_status != 404:
                raise base.StoreError('swift delete %s: %s' % (location, e))

    def list(self, stack_uuid):
        container = self.conf.backup_swift.container_prefix + stack_uuid
        try:
            _headers, objects = self.connection().get_container(container, full_listing=True)
        except swift_exc.ClientException as e:
            if e.http_status == 404:
                return []
            raise base.StoreError('swift list %s: %s' % (container, e))
        return sorted(o['name'] for o in objects)

    def forget_stack(self, stack_uuid):
        """The stack's containers go once empty (a 409 means something is left)."""
        container = self.conf.backup_swift.container_prefix + stack_uuid
        conn = self.connection()
        for name in (container, container + '_segments'):
            try:
                conn.delete_container(name)
            except swift_exc.ClientException as e:
                if e.http_status not in (404, 409):
                    raise base.StoreError('swift delete %s: %s' % (name, e))
        self._containers.discard(container)


class _Exactly:
    """``size`` bytes of a stream (what swiftclient reads an object from), md5ed."""

    def __init__(self, stream, size):
        self.stream = stream
        self.size = size
        self.left = size
        self.md5 = hashlib.md5(usedforsecurity=False)

    def read(self, n=-1):
        n = self.left if n is None or n < 0 else min(n, self.left)
        data = self.stream.read(n) if n else b''
        if n and not data:
            raise base.StoreError('the stream ended %d bytes early' % self.left)
        self.left -= len(data)
        self.md5.update(data)
        return data


class _Reader:
    """A Swift object's body as a stream (``read(n)``), chunk by chunk."""

    def __init__(self, body, location):
        self.chunks = iter(body)
        self.buf = b''
        self.location = location

    def read(self, n=-1):
        while n < 0 or len(self.buf) < n:
            try:
                chunk = next(self.chunks)
            except StopIteration:
                break
            except swift_exc.ClientException as e:
                raise base.StoreError('swift get %s: %s' % (self.location, e))
            self.buf += chunk
        if n < 0:
            n = len(self.buf)
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        close = getattr(self.chunks, 'close', None)
        if close:
            close()
