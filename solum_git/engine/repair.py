"""Repair that never loses data: what the stack worker asks before it would make
a repo empty, and the backup rows both workers read.

A repo missing from the server, emptied, or with a ref moved behind
solum-git's back (not descending from what the latest backup and the push
records say) is restored from its newest usable chain, in batched
``solum-backup restore`` sessions; with no usable backup, a repo that has
pushes goes to ERROR naming what was lost, never ACTIVE and empty.
"""
import concurrent.futures
import logging
import time
from typing import Any, Iterable, Optional, Sequence

from oslo_config import cfg
import sqlalchemy as sa
from sqlalchemy import orm

from solum_git.backups import base as store_base
from solum_git.backups import chain as chain_mod
from solum_git.common import states
from solum_git.db import api as db_api
from solum_git.db import models
from solum_git.gitolite import admin
from solum_git.hook import main as hook_main

LOG = logging.getLogger(__name__)
ZERO = '0' * 40
# a ref moved with no push record is taken for a loss only once it has stayed
# put this long with nothing in the hook's spool: a push's hook posts its
# record within its connect and read timeouts
MOVED_SETTLE = int(hook_main.CONNECT_TIMEOUT + hook_main.READ_TIMEOUT) + 2


def latest_links(session: orm.Session, repo_uuids: Iterable[str]) -> dict[str, models.Backup]:
    """{repo uuid: the newest backup row} for those repos."""
    b = models.Backup
    found: dict[str, models.Backup] = {}
    uuids = list(repo_uuids)
    for i in range(0, len(uuids), 500):
        newest = (sa.select(b.repo_uuid, sa.func.max(b.id).label('id'))
                  .where(b.repo_uuid.in_(uuids[i:i + 500])).group_by(b.repo_uuid)
                  .subquery())
        rows: Iterable[models.Backup] = session.execute(
            sa.select(b).join(newest, b.id == newest.c.id)).scalars()
        for row in rows:
            found[row.repo_uuid] = row
    return found


def chains_of(session: orm.Session, repo_uuid: str) -> list[list[models.Backup]]:
    """The repo's chains, newest first, each its links in order (full first)."""
    return chains_by_repo(session, [repo_uuid]).get(repo_uuid, [])


def chains_by_repo(session: orm.Session, repo_uuids: Iterable[str]
                   ) -> dict[str, list[list[models.Backup]]]:
    """{repo uuid: its chains, newest first, each its links in order (full first)}."""
    b = models.Backup
    uuids = sorted(set(repo_uuids))
    by_repo: dict[str, dict[str, list[models.Backup]]] = {}
    for i in range(0, len(uuids), 500):
        rows: Sequence[models.Backup] = session.execute(
            sa.select(b).where(b.repo_uuid.in_(uuids[i:i + 500])).order_by(b.id)
        ).scalars().all()
        for row in rows:
            by_repo.setdefault(row.repo_uuid, {}).setdefault(row.chain, []).append(row)
    found = {}
    for repo_uuid, chains in by_repo.items():
        ordered = sorted(chains.values(), key=lambda links: links[0].id, reverse=True)
        found[repo_uuid] = [sorted(links, key=lambda r: r.seq) for links in ordered
                            if links[0].seq == 0 and links[0].kind == 'full']
    return found


# repos per solum-backup session: one ssh session and one process on the
# server carry them all
BATCH_REPOS = 100


def batches(items: Sequence[Any], threads: int) -> list[list[Any]]:
    """``items`` split over ``threads`` sessions, at most BATCH_REPOS each."""
    items = list(items)
    if not items:
        return []
    size = min(BATCH_REPOS, -(-len(items) // max(1, threads)))
    return [items[i:i + size] for i in range(0, len(items), size)]


class Repairer:
    """What the stack worker asks before making repos: restore, or refuse to make empty."""

    def __init__(self, conf: cfg.ConfigOpts, db: db_api.Database,
                 store: Optional[store_base.Store]):
        self.conf = conf
        self.db = db
        self.store = store

    def repair(self, stack: Any, client: admin.AdminClient, repos: Sequence[Any],
               present: Optional[Iterable[str]] = None, restore_all: bool = False
               ) -> tuple[dict[str, str], dict[str, str]]:
        """Restore what must be; returns (restored {name: reason}, lost {name: reason}).

        ``repos``: rows (id, uuid, name, status, default_branch, restore_from)
        the worker would make or look at; ``present``: names on the server's
        disk (a drift check's), or None to ask.
        """
        if not repos:
            return {}, {}
        found = chain_mod.server_refs(client, [r.name for r in repos])
        uuids = {r.uuid for r in repos} | {r.restore_from for r in repos if r.restore_from}
        with self.db.reader() as session:
            latest = latest_links(session, uuids)
            pushed = self._pushes(session, [r.id for r in repos])
        restored, lost, todo = {}, {}, []
        moved = self.moved(client, [
            (r, found.get(r.name) or chain_mod.ServerRepo(missing=True), latest.get(r.uuid),
             pushed.get(r.id, [])) for r in repos
            if r.status != states.RepoStatus.BUILDING and not r.restore_from])
        for repo in repos:
            state = found.get(repo.name) or chain_mod.ServerRepo(missing=True)
            source = repo.restore_from if repo.restore_from else repo.uuid
            link = latest.get(source)
            pushes = pushed.get(repo.id, [])
            why = self._why(repo, state, link, pushes, restore_all,
                            moved.get(repo.name, []))
            if why is None:
                continue
            if link is None:
                if repo.restore_from:
                    lost[repo.name] = ('restore_from: repo %s has no backup to '
                                       'restore from' % repo.restore_from)
                elif pushes:
                    lost[repo.name] = 'lost: %s and there is no backup; %s' % (
                        why, _named(_final_refs(pushes)))
                continue
            todo.append(_Job(repo, state, why, pushes, source))
        if todo:
            self._restore(stack, client, todo)
        for job in todo:
            if job.reason:
                restored[job.repo.name] = job.reason
                continue
            LOG.error('stack %s: repo %s cannot be restored: %s', stack.uuid,
                      job.repo.name, job.error)
            if job.state.missing or not job.state.refs:
                lost[job.repo.name] = 'lost: %s and %s; %s' % (
                    job.why, job.error,
                    _named(_final_refs(job.pushes)) if job.pushes else 'no pushes')
        return restored, lost

    def moved(self, client: admin.AdminClient, items: Iterable[Any]
              ) -> dict[str, list[tuple[str, str, str, bool]]]:
        """Refs moved behind solum-git's back: {name: [(ref, expected, found, settled)]}.

        ``items``: (repo, ServerRepo, latest link, pushes). A ref whose commit
        on the server differs from what the latest backup and the pushes since
        say, and does not descend from it, lost commits no push record
        explains (one ``solum-backup descends`` round trip for all of them).
        """
        checks = []
        for repo, state, link, pushes in items:
            if state.missing or link is None:
                continue
            for ref, sha in sorted(expected_refs(link, pushes).items()):
                have = state.refs.get(ref)
                if have and have != sha:
                    checks.append((repo.name, ref, sha, have))
        try:
            answers = chain_mod.descends(client, checks, MOVED_SETTLE)
        except chain_mod.BackupError as e:
            # a server with an older solum-backup: no moved-ref check until it has
            # the new one, the rest of the pass goes on
            LOG.warning('moved refs not checked: %s', e)
            return {}
        found: dict[str, list[tuple[str, str, str, bool]]] = {}
        for name, ref, old, new in checks:
            descends, settled = answers.get((name, ref), (True, False))
            if not descends:
                found.setdefault(name, []).append((ref, old, new, settled))
        return found

    def _why(self, repo, state, link, pushes, restore_all, moved=()):
        if repo.restore_from and repo.status == states.RepoStatus.BUILDING:
            return 'repo %s is being undeleted' % repo.restore_from \
                if not state.refs else None
        if repo.status == states.RepoStatus.BUILDING:
            return None      # a new repo: nothing to restore
        if state.missing:
            return 'its directory was gone from the git server'
        if not state.refs and expected_refs(link, pushes):
            return 'the git server had it empty'
        if link is None:
            return None
        if restore_all and state.refs != link.refs:
            return 'an operator asked for a restore'
        if moved and all(settled for _r, _o, _n, settled in moved):
            return moved_text(moved)
        # refs gone with no push saying so are not restored by themselves (a
        # deletion's callback may be on its way): the backup worker stops
        # backing the repo up meanwhile, and a stack restore brings them back
        return None

    def _restore(self, stack, client, todo):
        """Each job's repo from its newest usable chain; rounds of batched sessions
        (a repo whose full bundle proves broken tries its previous chain next)."""
        with self.db.reader() as session:
            chains = chains_by_repo(session, {job.source for job in todo})
        for job in todo:
            job.chains = chains.get(job.source, [])
        threads = max(1, self.conf.backup.threads)
        pending = list(todo)
        began, sessions = time.monotonic(), 0
        while pending:
            ready = []
            for job in pending:
                if job.next_chain():
                    ready.append(job)
            if not ready:
                break
            with concurrent.futures.ThreadPoolExecutor(
                    max_workers=threads, thread_name_prefix='solum-git-restore') as pool:
                futures = [(batch, pool.submit(self._restore_batch, stack, client, batch))
                           for batch in batches(ready, threads)]
                sessions += len(futures)
                for batch, future in futures:
                    try:
                        future.result()
                    except (chain_mod.BackupError, admin.AdminError, OSError) as e:
                        for job in batch:
                            job.error = 'the restore failed: %s' % e
                            job.chains = []
            pending = [job for job in ready if job.reason is None and job.chains]
        broken = [b for job in todo for b in job.broken if not b[0].broken_reason]
        if broken:
            self._mark_broken(broken)
        LOG.info('stack %s: %d of %d repos restored in %.2fs (%d solum-backup sessions)',
                 stack.uuid, sum(1 for job in todo if job.reason), len(todo),
                 time.monotonic() - began, sessions)

    def _restore_batch(self, stack, client, jobs):
        items = []
        for job in jobs:
            job.check = set(_final_refs([p for p in job.pushes
                                         if p.pushed_at >= job.links[0].created_at]).values())
            items.append(chain_mod.Restore(job.repo.name, job.repo.uuid,
                                           job.repo.default_branch, job.links, job.check))
        answers = chain_mod.restore_batch(client, self.store, stack.uuid, items)
        for job in jobs:
            job.answered(answers.get(job.repo.name) or {'failed': 'no answer'})
            if job.reason:
                LOG.warning('stack %s: repo %s %s', stack.uuid, job.repo.name, job.reason)

    def _mark_broken(self, broken):
        with self.db.writer() as session:
            for link, why in broken:
                if not link.broken_reason:
                    session.execute(sa.update(models.Backup)
                                    .where(models.Backup.id == link.id)
                                    .values(broken_reason=why[:4000], verified=False)
                                    .execution_options(synchronize_session=False))

    def _pushes(self, session, repo_ids):
        p = models.Push
        found = {}
        for i in range(0, len(repo_ids), 500):
            rows = session.execute(sa.select(p.repo_id, p.refs, p.created_at.label('pushed_at'))
                                   .where(p.repo_id.in_(repo_ids[i:i + 500]))
                                   .order_by(p.created_at, p.id)).all()
            for row in rows:
                found.setdefault(row.repo_id, []).append(row)
        return found


class _Job:
    """One repo being restored: which chain is tried, what came of it."""

    def __init__(self, repo: Any, state: chain_mod.ServerRepo, why: str,
                 pushes: list[Any], source: str) -> None:
        self.repo, self.state, self.why, self.pushes = repo, state, why, pushes
        self.source = source
        self.chains: list[list[models.Backup]] = []
        self.links: list[models.Backup] = []
        self.check: set[str] = set()
        self.broken: list[tuple[models.Backup, str]] = []
        self.reason: Optional[str] = None
        self.error: str = 'no backup'

    def next_chain(self) -> bool:
        """The next chain's usable links (a known-broken full skipped); False: none left."""
        while self.chains:
            links, bad = chain_mod.usable(self.chains.pop(0))
            if bad is not None:
                self.broken.append((bad, bad.broken_reason))
            if links:
                self.links = links
                return True
        self.error = 'no usable backup: %s' % '; '.join(
            'backup %s (%s) %s' % (link.uuid, link.kind, why)
            for link, why in self.broken) if self.broken else self.error
        return False

    def answered(self, answer: dict) -> None:
        by_uuid = {link.uuid: link for link in self.links}
        if answer.get('broken') in by_uuid:
            self.broken.append((by_uuid[answer['broken']], answer.get('why') or 'broken'))
        good = by_uuid.get(answer.get('restored'))
        if good is None:
            self.error = answer.get('failed') or 'no usable link'
            if not self.chains:
                self.next_chain()       # no chain left: the error names the broken ones
            return
        self.chains = []
        after = _final_refs([p for p in self.pushes if p.pushed_at >= good.created_at])
        lacks = set(answer.get('lacks') or [])
        missing = {ref: sha for ref, sha in after.items() if sha in lacks}
        reason = 'restored from backup %s of %s UTC (%s)' % (
            good.uuid, good.created_at.strftime('%Y-%m-%d %H:%M:%S'), self.why)
        if missing:
            reason += '; pushes after that backup are lost: %s' % _named(missing)
        if self.broken:
            reason += '; unusable backups skipped: %s' % '; '.join(
                '%s %s' % (link.uuid, w) for link, w in self.broken)
        self.reason = reason


def expected_refs(link: Optional[models.Backup], pushes: Iterable[Any]) -> dict[str, str]:
    """The refs the latest backup and the pushes recorded since say the repo has."""
    refs = dict(link.refs) if link is not None else {}
    since = link.created_at if link is not None else None
    for push in pushes:
        if since is not None and push.pushed_at < since:
            continue
        for ref, _old, new in _lines(push):
            if ref and new and new != ZERO:
                refs[ref] = new
            elif ref:
                refs.pop(ref, None)
    return refs


def behind(link: Optional[models.Backup], state: chain_mod.ServerRepo,
           pushes: Iterable[Any]) -> list[str]:
    """Refs the backup and the push records name that the server does not have.

    A ref whose value differs may be a push whose callback is on its way; a
    ref gone that no push deleted is a loss (or a deletion on its way: the
    backup waits for its record either way).
    """
    return sorted(set(expected_refs(link, pushes)) - set(state.refs))


def _lines(push):
    out = []
    for item in push.refs or []:
        if isinstance(item, dict):
            out.append((item.get('ref'), item.get('old'), item.get('new')))
    return out


def _final_refs(pushes):
    """{ref: sha} the push records leave (deleted refs dropped)."""
    refs = {}
    for push in pushes:
        for ref, _old, new in _lines(push):
            if not ref:
                continue
            if new and new != ZERO:
                refs[ref] = new
            else:
                refs.pop(ref, None)
    return refs


def moved_text(moved: Iterable[tuple[str, str, str, bool]]) -> str:
    return '; '.join('%s moved behind solum-git\'s back to %s, which does not descend '
                     'from %s (what its latest backup and push records say)'
                     % (ref, new[:12], old[:12]) for ref, old, new, _settled in moved)


def _named(refs):
    if not refs:
        return 'no refs'
    items = sorted(refs.items())
    text = ', '.join('%s at %s' % (ref, sha[:12]) for ref, sha in items[:10])
    if len(items) > 10:
        text += ' and %d more' % (len(items) - 10)
    return text
