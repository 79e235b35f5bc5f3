"""Renamed repos on their git server: the directory moved once, the old name refused.

The API renames a repo in its row and keeps the old name (RepoRename); each
pass of the stack worker moves what is still to move before anything else
touches the server's disk (a repo restored, made or removed by name), and
renders the refusals of the old names into gitolite-admin (names.MOVED_FILE).
"""
import types
from typing import Any, Iterable

import sqlalchemy as sa
from sqlalchemy import orm

from solum_git.common import urls
from solum_git.db import models
from solum_git.gitolite import admin
from solum_git.server import names


def read(session: orm.Session, conf: Any, stack: Any,
         repos: Iterable[Any]) -> types.SimpleNamespace:
    """``moves``: (rename id, old, new, uuid) to do, oldest first; ``moved``: the file's map."""
    by_id = {r.id: r for r in repos}
    live = {r.name for r in by_id.values()}
    rows = session.execute(
        sa.select(models.RepoRename.id, models.RepoRename.repo_id,
                  models.RepoRename.old_name, models.RepoRename.moved)
        .where(models.RepoRename.stack_id == stack.id)
        .order_by(models.RepoRename.id)).all()
    moves, moved = [], {}
    for row in rows:
        repo = by_id.get(row.repo_id)
        if repo is None or repo.name == row.old_name:
            # its repo is gone, or renamed back (or read just before the rename)
            continue
        if not row.moved:
            moves.append((row.id, row.old_name, repo.name, repo.uuid))
        if row.old_name not in live:
            # the newest rename away from a name wins
            where = (urls.git_url(stack.ssh_user, stack.ssh_host, stack.ssh_port, repo.name)
                     if stack.ssh_host else None,
                     urls.http_url(conf, stack, repo.name))
            moved[row.old_name] = (repo.name,
                                   names.moved_message(row.old_name, repo.name, where))
    return types.SimpleNamespace(moves=moves, moved=moved)


def apply(client: admin.AdminClient, moves: list) -> tuple[list, dict]:
    """Move on the server: (rename ids done, {old name: why} of those not done)."""
    if not moves:
        return [], {}
    args = [part for _id, old, new, uuid in moves for part in (old, new, uuid)]
    out = client.command('solum-sync', 'mv', *args)
    # one line per move, in order: moved, exists, missing or failed
    lines = [line for line in out.splitlines()
             if line.split(' ', 1)[0] in ('moved', 'exists', 'missing', 'failed')]
    done, failed = [], {}
    for i, (rename_id, old, _new, _uuid) in enumerate(moves):
        word, _, rest = (lines[i] if i < len(lines) else 'failed - no answer').partition(' ')
        if word == 'failed':
            failed[old] = rest.partition(' ')[2] or 'the server could not move it'
        else:
            done.append(rename_id)
    return done, failed


def record(session: orm.Session, done: list) -> None:
    if done:
        session.execute(sa.update(models.RepoRename)
                        .where(models.RepoRename.id.in_(done))
                        .values(moved=True)
                        .execution_options(synchronize_session=False))
