"""``none``: no backups (an operator's explicit choice; lost repos stay lost)."""
from solum_git.backups import base


class NoStore(base.Store):
    name = 'none'
    keeps_backups = False

    def put(self, stack_uuid, location, stream, size):
        raise base.StoreError('[backup] store = none keeps no backups')

    def put_bytes(self, stack_uuid, location, data):
        raise base.StoreError('[backup] store = none keeps no backups')

    def open(self, stack_uuid, location):
        raise base.StoreError('[backup] store = none keeps no backups')

    def delete(self, stack_uuid, location):
        pass

    def list(self, stack_uuid):
        return []

    def forget_stack(self, stack_uuid):
        pass
