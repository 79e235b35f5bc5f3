"""Releases: the deploys of local triggers that served, and rollbacks to them.

A release is a SUCCESS run with a ``release`` number (engine/runs.py numbers
it when its app takes over). A rollback is a new run of the same trigger with
``rollback_of`` set: the engine redeploys that run's kept build, untested. It
is recorded under a push of its own (``pusher`` the user who asked, ``push_id``
``rollback-<run uuid>``), since a push starts a trigger's run once.
"""
from typing import List, Optional, Tuple
import uuid as uuidlib

import sqlalchemy as sa
from sqlalchemy import orm

from solum_git.common import exception
from solum_git.common import states
from solum_git.db import models
from solum_git.services import context
from solum_git.services import repos
from solum_git.services import runs as runs_service
from solum_git.services import views

ROLLBACK_PUSH_PREFIX = 'rollback-'


def release_view(run: models.Run, trigger_uuid: str, serving: bool) -> views.View:
    return {'release': run.release, 'run_uuid': run.uuid, 'trigger_uuid': trigger_uuid,
            'commit': run.commit, 'ref': run.ref, 'config_version': run.config_version,
            'rollback_of': run.rollback_of, 'app_url': run.app_url, 'serving': serving,
            'deployed_at': run.finished_at}


class ReleaseService(repos.RepoScoped):
    resource = 'release'
    model = models.Run

    def list(self, ctx: context.RequestContext, repo_uuid: str) -> List[views.View]:
        """Newest first; the newest release of each trigger is the one serving."""
        with self.db.reader() as session:
            repo = self.repos.find(session, ctx, repo_uuid)
            self.authorize(ctx, 'list', {'project_id': repo.project_id})
            rows = session.execute(
                sa.select(models.Run, models.Trigger.uuid)
                .join(models.Trigger, models.Trigger.id == models.Run.trigger_id)
                .where(models.Trigger.repo_id == repo.id, models.Run.release.isnot(None))
                .order_by(models.Trigger.id, models.Run.release.desc())).all()
            out, seen = [], set()
            for run, trigger_uuid in rows:
                out.append(release_view(run, trigger_uuid, trigger_uuid not in seen))
                seen.add(trigger_uuid)
            return out

    def rollback(self, ctx: context.RequestContext, run_uuid: str) -> views.View:
        """Queue a run that serves ``run_uuid``'s build again; returns the new run."""
        with self.db.writer() as session:
            found = session.execute(
                sa.select(models.Run, models.Push, models.Repo, models.Trigger)
                .join(models.Push, models.Push.id == models.Run.push_id)
                .join(models.Repo, models.Repo.id == models.Push.repo_id)
                .outerjoin(models.Trigger, models.Trigger.id == models.Run.trigger_id)
                .where(models.Run.uuid == run_uuid)).first()
            if found is None:
                raise exception.NotFound('run', run_uuid)
            target, _push, repo, trigger = found
            self.repos.find(session, ctx, repo.uuid)
            self.repos.authorize_owner(session, ctx, repo, 'run', 'rollback')
            if trigger is None:
                raise exception.Conflict('run %s: its trigger was deleted' % run_uuid)
            if target.type not in runs_service.DEPLOYING_TYPES or target.release is None:
                raise exception.Conflict('run %s is not a release (only a local run that '
                                         'deployed its app can be rolled back to)'
                                         % run_uuid)
            run, push_uuid = queue_redeploy(
                session, ctx, repo, trigger, target, 'rollback to release %d (run %s) '
                'asked by %s' % (target.release, target.uuid, ctx.user_id))
            view = runs_service.run_view(run, push_uuid, repo.uuid, trigger.uuid)
            stack_id = repo.stack_id
        self.engine.notify(stack_id)
        return view


def serving_release(session: orm.Session, trigger_id: int) -> Optional[models.Run]:
    """The run of the trigger's newest release (the app serving now), or None."""
    return session.execute(
        sa.select(models.Run).where(models.Run.trigger_id == trigger_id,
                                    models.Run.release.isnot(None))
        .order_by(models.Run.release.desc()).limit(1)).scalar_one_or_none()


def queue_redeploy(session: orm.Session, ctx: context.RequestContext, repo: models.Repo,
                   trigger: models.Trigger, target: models.Run,
                   reason: str) -> Tuple[models.Run, str]:
    """A QUEUED run of ``trigger`` that serves ``target``'s build again (the engine
    redeploys it untested, with the trigger's config of then); (run, push uuid)."""
    push = models.Push(
        uuid=str(uuidlib.uuid4()), stack_id=repo.stack_id, repo_id=repo.id,
        push_id=ROLLBACK_PUSH_PREFIX + str(uuidlib.uuid4()), pusher=ctx.user_id,
        refs=[{'ref': target.ref, 'old': target.commit, 'new': target.commit}],
        pushed_at=models.utcnow())
    session.add(push)
    session.flush()
    run = models.Run(
        uuid=str(uuidlib.uuid4()), push_id=push.id, trigger_id=trigger.id,
        type=target.type, ref=target.ref, commit=target.commit,
        status=states.RunStatus.QUEUED, attempts=0, rollback_of=target.uuid,
        status_reason=reason)
    session.add(run)
    session.flush()
    return run, push.uuid
