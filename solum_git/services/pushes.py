"""Pushes: the git servers' signed post-receive events, recorded once per push id."""
import datetime
import json
import re
import time
import uuid as uuidlib

from oslo_db import exception as db_exc
import sqlalchemy as sa

from solum_git.common import exception
from solum_git.common import validation
from solum_git.db import models
from solum_git.db import retry
from solum_git.services import base
from solum_git.services import runs as runs_service
from solum_git.services import signing

MAX_REFS = 1000
_PUSH_ID = re.compile(r'^[A-Za-z0-9_-]{8,64}$')
_OBJECT_ID = re.compile(r'^([0-9a-f]{40}|[0-9a-f]{64})$')
_PUSHER = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,63}$')
_REF = re.compile(r'^refs/[\x21-\x7e]{1,250}$')
# gitolite knows solum user ids as u-<id> (solum_git/gitolite/render.py)
GITOLITE_USER_PREFIX = 'u-'


def _object_id(value, field):
    if not isinstance(value, str) or not _OBJECT_ID.fullmatch(value):
        raise exception.InvalidInput(field, 'must be a 40 or 64 hex digit object id')
    return value


def parse_event(body, stack_uuid, max_skew):
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
        if not isinstance(name, str) or not _REF.fullmatch(name) or '..' in name:
            raise exception.InvalidInput(field + '.ref', 'must be a ref name under '
                                         'refs/, at most 255 printable characters')
        clean.append({'ref': name, 'old': _object_id(ref.get('old'), field + '.old'),
                      'new': _object_id(ref.get('new'), field + '.new')})
    if pusher.startswith(GITOLITE_USER_PREFIX):
        pusher = pusher[len(GITOLITE_USER_PREFIX):]
    return {'push_id': push_id, 'repo': event['repo'], 'pusher': pusher,
            'pushed_at': datetime.datetime.fromtimestamp(
                pushed_at, datetime.timezone.utc).replace(tzinfo=None),
            'refs': clean, 'truncated': event.get('truncated') is True}


def runs_for(triggers, refs):
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


def push_view(row, repo_uuid, run_views):
    return {
        'uuid': row.uuid, 'repo_uuid': repo_uuid, 'push_id': row.push_id,
        'pusher': row.pusher, 'refs': list(row.refs or []), 'pushed_at': row.pushed_at,
        'created_at': row.created_at, 'runs': run_views,
    }


class PushService(base.Service):
    resource = 'push'
    model = models.Push
    sort_keys = ('created_at', 'pushed_at', 'id')

    def __init__(self, conf, db, enforcer, engine, repo_service):
        super().__init__(conf, db, enforcer, engine)
        self.repos = repo_service

    # -- the signed callback (no user: the stack's secret is the credential)

    def receive(self, headers, body):
        """Record a push once; queue one run per matching trigger.

        Anything refused (unsigned, wrong or other stack's secret, stale,
        replayed, malformed) leaves the database as it was.
        """
        stack_uuid, timestamp, nonce, sig = signing.parse_headers(headers)
        max_skew = self.conf.hook.max_skew
        signing.check_time(timestamp, max_skew)
        stage = []

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
            result, stack_id = retry.on_lock(record)
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
        if result['runs'] and not result['duplicate']:
            self.engine.notify(stack_id)
        return result

    def _record(self, session, stack, event, read_only=False):
        repo = session.execute(sa.select(models.Repo).where(
            models.Repo.stack_id == stack.id,
            models.Repo.name == event['repo'])).scalar_one_or_none()
        if repo is None:
            raise exception.NotFound('repo', event['repo'])
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
        triggers = session.execute(sa.select(models.Trigger).where(
            models.Trigger.repo_id == repo.id).order_by(models.Trigger.id)).scalars()
        run_views = []
        for trigger, ref in runs_for(triggers, event['refs']):
            run = models.Run(uuid=str(uuidlib.uuid4()), push_id=push.id,
                             trigger_id=trigger.id, type=trigger.type, ref=ref['ref'],
                             commit=ref['new'], status=runs_service.QUEUED, attempts=0)
            session.add(run)
            session.flush()
            run_views.append(runs_service.run_view(run, push.uuid, repo.uuid,
                                                   trigger.uuid))
        return {'push': push_view(push, repo.uuid, run_views), 'runs': run_views,
                'duplicate': False}

    # -- what users see

    def list(self, ctx, repo_uuid, limit=None, marker=None, sort_key=None,
             sort_dir=None):
        with self.db.reader() as session:
            repo = self.repos.find(session, ctx, repo_uuid)
            self.authorize(ctx, 'list', {'project_id': repo.project_id})
            query = session.query(models.Push).filter(models.Push.repo_id == repo.id)
            rows = self.paginate(session, query, limit, marker, sort_key, sort_dir)
            runs = runs_service.views_for_pushes(session, [r.id for r in rows])
            return [push_view(r, repo.uuid, runs[r.id]) for r in rows]

    def get(self, ctx, repo_uuid, uuid):
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
