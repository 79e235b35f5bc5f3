"""Runs: what a push started; their status, log and redelivery."""
import json
import threading
from typing import Any, Mapping, Optional, Sequence

import sqlalchemy as sa
from sqlalchemy import orm

from solum_git.common import applog
from solum_git.common import exception
from solum_git.common import states
from solum_git.db import models
from solum_git.services import context
from solum_git.services import repos
from solum_git.services import signing
from solum_git.services import views

LOG_CHUNK = 64 * 1024
# the trigger types whose runs deploy an app: app logs, releases, rollbacks
DEPLOYING_TYPES = ('local',)


def run_view(row: Any, push_uuid: str, repo_uuid: str,
             trigger_uuid: Optional[str]) -> views.View:
    return {
        'uuid': row.uuid, 'push_uuid': push_uuid, 'repo_uuid': repo_uuid,
        'trigger_uuid': trigger_uuid, 'type': row.type, 'ref': row.ref,
        'commit': row.commit, 'status': row.status, 'status_reason': row.status_reason,
        'app_url': row.app_url, 'attempts': row.attempts or 0,
        'release': row.release, 'rollback_of': row.rollback_of,
        'deliveries': list(row.deliveries or []), 'created_at': row.created_at,
        'updated_at': row.updated_at, 'started_at': row.started_at,
        'finished_at': row.finished_at,
    }


def _joined():
    return (sa.select(models.Run, models.Push.uuid, models.Repo, models.Trigger.uuid)
            .join(models.Push, models.Push.id == models.Run.push_id)
            .join(models.Repo, models.Repo.id == models.Push.repo_id)
            .outerjoin(models.Trigger, models.Trigger.id == models.Run.trigger_id))


def views_for_pushes(session: orm.Session, push_ids: list[int]
                     ) -> dict[int, list[views.View]]:
    """{push id: [run views]} in one query."""
    out: dict[int, list[views.View]] = {push_id: [] for push_id in push_ids}
    if not push_ids:
        return out
    # (run, push uuid, repo, trigger uuid)
    rows: Sequence[Any] = session.execute(
        _joined().where(models.Run.push_id.in_(push_ids)).order_by(models.Run.id)).all()
    for run, push_uuid, repo, trigger_uuid in rows:
        out[run.push_id].append(run_view(run, push_uuid, repo.uuid, trigger_uuid))
    return out


class RunService(repos.RepoScoped):
    """Runs are checked against their repo's project (policy ``run``)."""
    resource = 'run'
    model = models.Run

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._followers = threading.BoundedSemaphore(self.conf.api.app_log_followers)

    def _find(self, session, ctx, uuid, with_log=False):
        query = _joined().where(models.Run.uuid == uuid)
        if with_log:
            query = query.options(orm.undefer(models.Run.log))
        found = session.execute(query).first()
        if found is None:
            raise exception.NotFound('run', uuid)
        run, push_uuid, repo, trigger_uuid = found
        self.authorize(ctx, 'get', {'project_id': repo.project_id, 'uuid': uuid},
                       hide=True)
        return run, push_uuid, repo, trigger_uuid

    def get(self, ctx: context.RequestContext, uuid: str) -> views.View:
        with self.db.reader() as session:
            run, push_uuid, repo, trigger_uuid = self._find(session, ctx, uuid)
            return run_view(run, push_uuid, repo.uuid, trigger_uuid)

    def log(self, ctx: context.RequestContext, uuid: str) -> dict[str, str]:
        with self.db.reader() as session:
            run = self._find(session, ctx, uuid, with_log=True)[0]
            return {'status': run.status, 'log': run.log or ''}

    def app_log(self, ctx: context.RequestContext, uuid: str, tail: Optional[int] = None,
                follow: bool = False) -> dict[str, Any]:
        """The output of a run's app (what it printed, secrets masked): ``chunks``,
        and the run's ``status``.

        ``follow`` streams what it prints next for at most [api]
        app_log_follow_seconds, and only [api] app_log_followers at a time.
        """
        if tail is not None and not 0 <= tail <= applog.MAX_TAIL:
            raise exception.InvalidInput('tail', 'must be a number of lines from 0 to %d'
                                         % applog.MAX_TAIL)
        with self.db.reader() as session:
            run = self._find(session, ctx, uuid)[0]
            if run.type not in DEPLOYING_TYPES or run.app_url is None:
                raise exception.NotFound('app log of run', '%s (it deployed no app)' % uuid)
        path = applog.path(self.conf.state_path, run.uuid)
        if not applog.exists(path):
            raise exception.NotFound('app log of run', '%s (no longer kept: [pipelines] '
                                     'keep_runs)' % uuid)
        start = applog.tail(path, tail)
        if not follow:
            return {'status': run.status, 'chunks': iter([start])}
        if not self._followers.acquire(blocking=False):
            raise exception.TooManyRequests(
                'follow: %d app logs are already followed through this API process '
                '([api] app_log_followers); try again, or ask without follow'
                % self.conf.api.app_log_followers)
        return {'status': run.status, 'chunks': self._following(path, start)}

    def _following(self, path, start):
        try:
            yield from applog.follow(path, start, self.conf.api.app_log_follow_seconds)
        finally:
            self._followers.release()

    def redeliver(self, ctx: context.RequestContext, uuid: str) -> views.View:
        """Run it again: a webhook is re-sent (same delivery id), other types re-run."""
        with self.db.writer() as session:
            run, push_uuid, repo, trigger_uuid = self._find(session, ctx, uuid)
            self.repos.authorize_owner(session, ctx, repo, 'run', 'redeliver')
            if trigger_uuid is None:
                raise exception.Conflict('run %s: its trigger was deleted' % uuid)
            if run.status in (states.RunStatus.QUEUED, states.RunStatus.RUNNING):
                raise exception.Conflict('run %s is %s; redeliver it once it has '
                                         'ended' % (uuid, run.status))
            run.status = states.RunStatus.QUEUED
            run.status_reason = 'redelivery requested by %s' % ctx.user_id
            run.attempts = 0
            run.next_attempt_at = None
            run.finished_at = None
            run.lease_owner = None
            run.lease_expires = None
            session.flush()
            view = run_view(run, push_uuid, repo.uuid, trigger_uuid)
            stack_id = repo.stack_id
        self.engine.notify(stack_id)
        return view

    def hook_log(self, headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
        """A run's log from ``offset`` on, for the hook of the stack that pushed.

        Signed like the push callback; a read, so its nonce is not recorded.
        """
        stack_uuid, timestamp, nonce, sig = signing.parse_headers(headers)
        signing.check_time(timestamp, self.conf.hook.max_skew)
        try:
            asked = json.loads(body)
            run_uuid, offset = asked['run'], asked['offset']
        except (ValueError, TypeError, KeyError):
            raise exception.InvalidInput('body', 'must be {"run": uuid, "offset": n}')
        if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
            raise exception.InvalidInput('offset', 'must be a non-negative integer')
        with self.db.reader() as session:
            stack = signing.verify(session, stack_uuid, timestamp, nonce, sig, body)
            run = session.execute(
                sa.select(models.Run).join(models.Push, models.Push.id == models.Run.push_id)
                .where(models.Run.uuid == str(run_uuid), models.Push.stack_id == stack.id)
                .options(orm.undefer(models.Run.log))).scalar_one_or_none()
            if run is None:
                raise exception.NotFound('run', run_uuid)
            text = (run.log or '')[offset:offset + LOG_CHUNK]
            return {'status': run.status, 'status_reason': run.status_reason,
                    'app_url': run.app_url, 'log': text, 'offset': offset + len(text)}
