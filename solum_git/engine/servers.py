"""An operator's stop and start of git servers (``solum-git-manage stacks``).

Git servers run on their own, apart from the engine. These are the only ways
besides deleting a stack to stop them: each works under the stack's lease,
so no engine pass starts a server while it is being stopped.
"""
import time
from typing import Any, Iterable, List, Optional

import sqlalchemy as sa

from solum_git.common import secretbox
from solum_git.common import states
from solum_git.db import api as db_api
from solum_git.db import models
from solum_git.db import stack_keys
from solum_git.engine import leases
from solum_git.provisioners import base

LEASE_WAIT = 60.0


class ServerOpError(Exception):
    """The operation could not be done for a stack; the text says why."""


def select(db: db_api.Database, provisioner: base.Provisioner, box: secretbox.SecretBox,
           uuids: Optional[Iterable[str]] = None) -> List[Any]:
    """The provisioner's stacks (all, or those of ``uuids``), oldest first, their
    private keys opened with ``box``."""
    query = sa.select(models.Stack).where(
        models.Stack.provisioner == provisioner.name).order_by(models.Stack.id)
    if uuids:
        query = query.where(models.Stack.uuid.in_(list(uuids)))
    with db.reader() as session:
        stacks = [stack_keys.snapshot(box, r) for r in session.execute(query).scalars()]
    missing = sorted(set(uuids or ()) - {s.uuid for s in stacks})
    if missing:
        raise ServerOpError('no %s stack %s' % (provisioner.name, ', '.join(missing)))
    return stacks


def status(provisioner: base.Provisioner, stack: Any) -> str:
    """'sshd 1234' per running process, 'stopped' or 'not running'."""
    found = provisioner.servers(stack)
    running = ['%s %d' % (name, pid_start[0]) for name, pid_start in found if pid_start]
    if running:
        return ', '.join(running)
    return 'not running'


def stop(db: db_api.Database, provisioner: base.Provisioner, stack: Any,
         wait: float = LEASE_WAIT) -> Any:
    """Stop the stack's servers until ``start`` or the next engine start."""
    return _under_lease(db, stack, wait, lambda: provisioner.stop(stack))


def start(db: db_api.Database, provisioner: base.Provisioner, stack: Any,
          wait: float = LEASE_WAIT) -> Any:
    return _under_lease(db, stack, wait, lambda: provisioner.start(stack))


def migrate(db: db_api.Database, provisioner: base.Provisioner, stack: Any,
            wait: float = LEASE_WAIT) -> str:
    """Move a stack of the shared user onto its own (its git_url changes)."""
    def move():
        user = provisioner.migrate_user(stack)
        with db.writer() as session:
            session.execute(
                sa.update(models.Stack).where(models.Stack.id == stack.id)
                .values(ssh_user=user, status=states.StackStatus.BUILDING,
                        status_reason='moving to unix user %s' % user,
                        config_version=models.Stack.config_version + 1)
                .execution_options(synchronize_session=False))
        return user
    return _under_lease(db, stack, wait, move)


def _under_lease(db, stack, wait, action):
    me = leases.holder_id()
    deadline = time.monotonic() + wait
    while not leases.claim_stack(db, stack.id, me, max(30, int(wait))):
        if time.monotonic() > deadline:
            raise ServerOpError('stack %s: an engine has held its lease for %ds; try '
                                'again' % (stack.uuid, wait))
        time.sleep(0.2)
    try:
        return action()
    finally:
        leases.release_stack(db, stack.id, me)
