"""Pushes: the git servers' signed post-receive events, recorded once per push id."""
import datetime
import json
import re
import time
from typing import Any, List, Mapping, Optional
import uuid as uuidlib

from oslo_db import exception as db_exc
import sqlalchemy as sa

from solum_git.common import access
from solum_git.common import events
from solum_git.common import exception
from solum_git.common import states
from solum_git.common import validation
from solum_git.db import api as db_api
from solum_git.db import models
from solum_git.services import audit
from solum_git.services import context
from solum_git.services import repos
from solum_git.services import runs as runs_service
from solum_git.services import signing
from solum_git.services import views

MAX_REFS = 1000
# the refs (and runs) of a push its audit event keeps; "truncated" says if more
AUDITED_REFS = 50
_PUSH_ID = re.compile(r'^[A-Za-z0-9_-]{8,64}$')
_OBJECT_ID = re.compile(r'^([0-9a-f]{40}|[0-9a-f]{64})$')
_PUSHER = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,63}$')
_REF = re.compile(r'^refs/[\x21-\x7e]{1,250}$')
# gitolite knows solum user ids as u-<id> (solum_git/gitolite/render.py)


def _object_id(value, field):
    if not isinstance(value, str) or not _OBJECT_ID.fullmatch(value):
        raise exception.InvalidInput(field, 'must be a 40 or 64 hex digit object id')
    return value


def parse_event(body: bytes, stack_uuid: str, max_skew: int) -> dict[str, Any]:
    """The hook's JSON, checked field by field (it comes from a tenant's server)."""
    try:
        event = json.loads(body)
    except ValueError:
        raise exception.InvalidInput('body', 'must be JSON')
    if not isinstance(event, dict):
        raise exception.InvalidInput('body', 'must be a JSON object')
    if event.get('stack_id') != stack_uuid:
        raise exception.InvalidInput('stack_id', 'must equal X-Solum-Git-Stack')
    push_id = event.get('push_id')
    if not isinstance(push_id, str) or not _PUSH_ID.fullmatch(push_id):
        raise exception.InvalidInput('push_id', 'must be 8-64 characters of A-Za-z0-9_-')
    validation.repo_name(event.get('repo'), 'repo')
    pusher = event.get('pusher')
    if not isinstance(pusher, str) or not _PUSHER.fullmatch(pusher):
        raise exception.InvalidInput('pusher', 'must be 1-64 characters of '
                                     'A-Za-z0-9_.@+-, starting with a letter or digit')
    pushed_at = event.get('pushed_at')
    if (not isinstance(pushed_at, int) or isinstance(pushed_at, bool)
            or not 946684800 <= pushed_at <= time.time() + max_skew):
        raise exception.InvalidInput('pushed_at', 'must be a Unix time (seconds) '
                                     'after 2000 and not in the future')
    refs = event.get('refs')
    if not isinstance(refs, list) or not 1 <= len(refs) <= MAX_REFS:
        raise exception.InvalidInput('refs', 'must be a list of 1-%d refs' % MAX_REFS)
    clean = []
    for i, ref in enumerate(refs):
        field = 'refs[%d]' % i
        if not isinstance(ref, dict):
            raise exception.InvalidInput(field, 'must be an object {ref, old, new}')
        name = ref.get('ref')
        if (not isinstance(name, str) or not _REF.fullmatch(name)
                or validation.refname_error(name)):
            raise exception.InvalidInput(field + '.ref', 'must be a ref name git '
                                         'accepts under refs/, at most 255 printable '
                                         'characters')
        clean.append({'ref': name, 'old': _object_id(ref.get('old'), field + '.old'),
                      'new': _object_id(ref.get('new'), field + '.new')})
    size = event.get('size_bytes')
    if size is not None and (not isinstance(size, int) or isinstance(size, bool)
                             or not 0 <= size < 2 ** 62):
        raise exception.InvalidInput('size_bytes', 'must be a whole number of bytes')
    return {'push_id': push_id, 'repo': event['repo'], 'pusher': access.user_id_of(pusher),
            'size_bytes': size,
            'pushed_at': datetime.datetime.fromtimestamp(
                pushed_at, datetime.timezone.utc).replace(tzinfo=None),
            'refs': clean, 'truncated': event.get('truncated') is True}


def runs_for(triggers: List[Any], refs: List[dict[str, str]]
             ) -> List[tuple[Any, dict[str, str]]]:
    """(trigger, ref) pairs: per trigger, the first updated branch its glob matches."""
    out = []
    for trigger in triggers:
        for ref in refs:
            if set(ref['new']) == {'0'}:
                continue  # a deleted branch starts nothing
            if validation.branch_matches(trigger.branches, ref['ref']):
                out.append((trigger, ref))
                break
    return out


def push_view(row: Any, repo_uuid: str, run_views: List[views.View]) -> views.View:
    return {
        'uuid': row.uuid, 'repo_uuid': repo_uuid, 'push_id': row.push_id,
        'pusher': row.pusher, 'refs': list(row.refs or []), 'pushed_at': row.pushed_at,
        'created_at': row.created_at, 'runs': run_views,
    }


class PushService(repos.RepoScoped):
    resource = 'push'
    model = models.Push
    sort_keys = ('created_at', 'pushed_at', 'id')

    # -- the signed callback (no user: the stack's secret is the credential)

    def receive(self, headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
        """Record a push once; queue one run per matching trigger.

        Anything refused (unsigned, wrong or other stack's secret, stale,
        replayed, malformed) leaves the database as it was.
        """
        stack_uuid, timestamp, nonce, sig = signing.parse_headers(headers)
        max_skew = self.conf.hook.max_skew
        signing.check_time(timestamp, max_skew)
        stage: List[str] = []

        @db_api.retry_on_lock
        def record():
            stage[:] = ['nonce']
            with self.db.writer() as session:
                stack = signing.verify(session, stack_uuid, timestamp, nonce, sig, body)
                session.add(models.HookNonce(
                    stack_id=stack.id, nonce=nonce,
                    expires_at=models.utcnow() + datetime.timedelta(
                        seconds=2 * max_skew)))
                session.flush()
                stage[:] = ['push']
                event = parse_event(body, stack_uuid, max_skew)
                return self._record(session, stack, event), stack.id

        try:
            result, stack_id = record()
        except db_exc.DBDuplicateEntry:
            if stage == ['nonce']:
                raise exception.Forbidden('X-Solum-Git-Nonce: this signed request was '
                                          'already received (replay refused)')
            # the same push id raced in on another request: that one recorded it
            with self.db.reader() as session:
                stack = session.execute(sa.select(models.Stack).where(
                    models.Stack.uuid == stack_uuid)).scalar_one()
                event = parse_event(body, stack_uuid, max_skew)
                return self._record(session, stack, event, read_only=True)
        if not result['duplicate']:
            # runs to start, and a backup to take within [backup] max_lag
            self.engine.notify(stack_id)
        return result

    def _repo(self, session, stack, name):
        """The repo of that name, else the one that had it (a push that was under way
        when the server moved the repo reports the old name)."""
        repo = session.execute(sa.select(models.Repo).where(
            models.Repo.stack_id == stack.id,
            models.Repo.name == name)).scalar_one_or_none()
        if repo is None:
            repo = session.execute(
                sa.select(models.Repo).join(models.RepoRename,
                                            models.RepoRename.repo_id == models.Repo.id)
                .where(models.RepoRename.stack_id == stack.id,
                       models.RepoRename.old_name == name)
                .order_by(models.RepoRename.id.desc()).limit(1)).scalar_one_or_none()
        if repo is None:
            raise exception.NotFound('repo', name)
        return repo

    def _record(self, session, stack, event, read_only=False):
        repo = self._repo(session, stack, event['repo'])
        push = session.execute(sa.select(models.Push).where(
            models.Push.stack_id == stack.id,
            models.Push.push_id == event['push_id'])).scalar_one_or_none()
        if push is not None or read_only:
            if push is None:
                raise exception.ServiceUnavailable('push %s is being recorded; retry'
                                                   % event['push_id'])
            run_views = runs_service.views_for_pushes(session, [push.id])[push.id]
            return {'push': push_view(push, repo.uuid, run_views), 'runs': run_views,
                    'duplicate': True}
        push = models.Push(uuid=str(uuidlib.uuid4()), push_id=event['push_id'],
                           stack_id=stack.id, repo_id=repo.id, pusher=event['pusher'],
                           refs=event['refs'], pushed_at=event['pushed_at'])
        session.add(push)
        session.flush()
        repo.last_pushed_at = push.created_at
        # a spooled push delivered late carries an older size: the newest wins
        if event['size_bytes'] is not None and (repo.size_at is None
                                                or event['pushed_at'] >= repo.size_at):
            repo.size_bytes, repo.size_at = event['size_bytes'], event['pushed_at']
        triggers = session.execute(sa.select(models.Trigger).where(
            models.Trigger.repo_id == repo.id).order_by(models.Trigger.id)).scalars()
        run_views = []
        for trigger, ref in runs_for(triggers, event['refs']):
            run = models.Run(uuid=str(uuidlib.uuid4()), push_id=push.id,
                             trigger_id=trigger.id, type=trigger.type, ref=ref['ref'],
                             commit=ref['new'], status=states.RunStatus.QUEUED, attempts=0)
            session.add(run)
            session.flush()
            run_views.append(runs_service.run_view(run, push.uuid, repo.uuid,
                                                   trigger.uuid))
        audit.record(session, push.pusher, repo.project_id, events.PUSH, 'repo', repo.uuid,
                     {'push_uuid': push.uuid,
                      'refs': [dict(r) for r in event['refs'][:AUDITED_REFS]],
                      'runs': [r['uuid'] for r in run_views[:AUDITED_REFS]],
                      'truncated': (event['truncated'] or len(event['refs']) > AUDITED_REFS
                                    or len(run_views) > AUDITED_REFS or None)})
        return {'push': push_view(push, repo.uuid, run_views), 'runs': run_views,
                'duplicate': False}

    # -- what users see

    def list(self, ctx: context.RequestContext, repo_uuid: str, limit: Optional[int] = None,
             marker: Optional[str] = None, sort_key: Optional[str] = None,
             sort_dir: Optional[str] = None) -> List[views.View]:
        with self.db.reader() as session:
            repo = self.repos.find(session, ctx, repo_uuid)
            self.authorize(ctx, 'list', {'project_id': repo.project_id})
            query = session.query(models.Push).filter(models.Push.repo_id == repo.id)
            rows = self.paginate(session, query, limit, marker, sort_key, sort_dir)
            runs = runs_service.views_for_pushes(session, [r.id for r in rows])
            return [push_view(r, repo.uuid, runs[r.id]) for r in rows]

    def get(self, ctx: context.RequestContext, repo_uuid: str, uuid: str) -> views.View:
        with self.db.reader() as session:
            repo = self.repos.find(session, ctx, repo_uuid)
            self.authorize(ctx, 'get', {'project_id': repo.project_id, 'uuid': uuid},
                           hide=True)
            row = session.execute(sa.select(models.Push).where(
                models.Push.uuid == uuid,
                models.Push.repo_id == repo.id)).scalar_one_or_none()
            if row is None:
                raise exception.NotFound('push', uuid)
            return push_view(row, repo.uuid,
                             runs_service.views_for_pushes(session, [row.id])[row.id])
