"""One unix uid per project for its sandboxed commands, allocated once, in the DB.

A uid is never handed to a second project (rows are never deleted), so a new
project cannot inherit files an old one left behind. Uids the host already
uses (``/etc/passwd``, ``/etc/group``, ``/etc/subuid``/``subgid`` ranges, the
service's own) are skipped.
"""
import grp
import os
import pwd
from typing import Any, Iterable, List, Tuple

from oslo_db import exception as db_exc
import sqlalchemy as sa

from solum_git.db import api as db_api
from solum_git.db import models

SandboxUid = models.SandboxUid
ATTEMPTS = 20


class NoFreeUid(Exception):
    pass


def subordinate_ranges(paths: Iterable[str] = ('/etc/subuid', '/etc/subgid')
                       ) -> List[Tuple[int, int]]:
    """[(first, count)] of the host's subordinate id ranges (rootless containers)."""
    ranges = []
    for path in paths:
        try:
            with open(path) as f:
                lines = f.read().splitlines()
        except OSError:
            continue
        for line in lines:
            parts = line.strip().split(':')
            if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
                ranges.append((int(parts[1]), int(parts[2])))
    return ranges


def used_by_host(uid: int, ranges: Iterable[Tuple[int, int]]) -> bool:
    if uid in (os.getuid(), os.geteuid()):
        return True
    for lookup in (pwd.getpwuid, grp.getgrgid):  # the gid is the same number
        try:
            lookup(uid)
            return True
        except KeyError:
            pass
    return any(first <= uid < first + count for first, count in ranges)


def _existing(db, project_id):
    with db.reader() as session:
        return session.execute(sa.select(SandboxUid.uid).where(
            SandboxUid.project_id == project_id)).scalar()


def _next_free(db, low, high):
    with db.reader() as session:
        top = session.execute(sa.select(sa.func.max(SandboxUid.uid)).where(
            SandboxUid.uid.between(low, high))).scalar()
    candidate = low if top is None else top + 1
    ranges = subordinate_ranges()
    while candidate <= high and used_by_host(candidate, ranges):
        candidate += 1
    return candidate


def uid_for(db: db_api.Database, opts: Any, project_id: str) -> int:
    """The project's uid (``opts`` is ``conf.sandbox``), allocating it the first time."""
    if opts.uid_min > opts.uid_max:
        raise NoFreeUid('[sandbox] uid_min (%d) is above uid_max (%d)'
                        % (opts.uid_min, opts.uid_max))
    for _attempt in range(ATTEMPTS):
        uid = _existing(db, project_id)
        if uid is not None:
            return int(uid)
        candidate = _next_free(db, opts.uid_min, opts.uid_max)
        if candidate > opts.uid_max:
            raise NoFreeUid('no free uid left in [sandbox] uid_min..uid_max (%d..%d) for '
                            'project %s' % (opts.uid_min, opts.uid_max, project_id))

        @db_api.retry_on_lock
        def insert():
            with db.writer() as session:
                session.add(SandboxUid(project_id=project_id, uid=candidate))
        try:
            insert()
        except db_exc.DBDuplicateEntry:
            continue  # another engine took that uid, or gave this project one
        return candidate
    raise NoFreeUid('could not allocate a sandbox uid for project %s in %d attempts'
                    % (project_id, ATTEMPTS))
