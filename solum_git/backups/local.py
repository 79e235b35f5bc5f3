"""``local``: a directory (``[backup] local_path``), one subdirectory per stack.

Files are written to a temporary name, fsynced and renamed: a crash leaves
the old file or the whole new one, never half of it.
"""
import os
import re
import shutil

from solum_git.backups import base
from solum_git.server import common as server_files

_LOCATION = re.compile(r'^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$')


class LocalStore(base.Store):
    name = 'local'

    def __init__(self, conf):
        super().__init__(conf)
        self.root = conf.backup.local_path

    def _top(self, stack_uuid):
        if not _LOCATION.match(stack_uuid or '') or '.' in stack_uuid:
            raise base.StoreError('bad stack id %r' % stack_uuid)
        return os.path.join(self.root, stack_uuid)

    def _path(self, stack_uuid, location):
        if not _LOCATION.match(location or '') or '..' in location:
            raise base.StoreError('bad backup location %r' % location)
        return os.path.join(self._top(stack_uuid), location)

    def _write(self, path, write):
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        # the git servers' own whole-file write (stdlib only), fsynced
        return server_files.replace_with(path, write, sync=True)

    def put(self, stack_uuid, location, stream, size):
        def copy(f):
            if base.copy(stream, f.write, size) != size:
                raise base.StoreError('%s: the stream ended before %d bytes'
                                      % (location, size))
        try:
            return self._write(self._path(stack_uuid, location), copy)
        except OSError as e:
            raise base.StoreError('cannot write %s: %s' % (location, e))

    def put_bytes(self, stack_uuid, location, data):
        try:
            return self._write(self._path(stack_uuid, location), lambda f: f.write(data))
        except OSError as e:
            raise base.StoreError('cannot write %s: %s' % (location, e))

    def open(self, stack_uuid, location):
        try:
            return open(self._path(stack_uuid, location), 'rb')
        except OSError as e:
            raise base.StoreError('cannot read %s: %s' % (location, e))

    def delete(self, stack_uuid, location):
        path = self._path(stack_uuid, location)
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        # empty directories of a chain or a repo go with their last file
        top = os.path.join(self.root, stack_uuid)
        parent = os.path.dirname(path)
        while parent != top and parent.startswith(top):
            try:
                os.rmdir(parent)
            except OSError:
                break
            parent = os.path.dirname(parent)

    def list(self, stack_uuid):
        top = self._top(stack_uuid)
        found = []
        for where, _dirs, files in os.walk(top):
            rel = os.path.relpath(where, top)
            found += [name if rel == '.' else '%s/%s' % (rel, name) for name in files]
        return sorted(found)

    def forget_stack(self, stack_uuid):
        top = self._top(stack_uuid)
        if not self.list(stack_uuid):
            shutil.rmtree(top, ignore_errors=True)
