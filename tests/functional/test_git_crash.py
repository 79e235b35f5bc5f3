"""kill -9 of the API (engine in process) at points of a cold stack creation
with 30 repos: nothing the dead API started outlives it (ssh masters,
bootstraps and what they ran), and after a restart every repo is ACTIVE
within 60 s; the dead engine's stack lease is taken over at once (it would
otherwise hold the stack for [engine] lease_seconds = 120 s).
"""
import contextlib
import sqlite3
import time

import pytest

from tests.functional import gitserver

REPOS = 30
CONVERGE_SECONDS = 60


def _applied(api, project):
    row = api.stack_row(project)
    return row is not None and row['applied_version'] >= 1


def _in_bootstrap(api, project):
    # its longest step: a gitolite setup left running would race the next bootstrap
    return any('gitolite setup' in title for title in
               gitserver.descendants(api.proc.pid).values())


def _in_admin_push(api, project):
    return any(title.startswith('git ') and ' push ' in ' %s ' % title
               for title in gitserver.descendants(api.proc.pid).values())


POINTS = {
    'during-bootstrap': _in_bootstrap,
    'during-the-first-admin-push': _in_admin_push,
    'right-after-the-first-apply': _applied,
}


@pytest.mark.parametrize('point', sorted(POINTS))
def test_kill_9_during_a_cold_stack_creation_converges_after_restart(tmp_path, point):
    project = 'project-k'
    with gitserver.running_api(tmp_path) as api:
        dev = gitserver.Dev(api, tmp_path, project, 'alice')
        repos = [dev.create_repo('r%02d' % i) for i in range(REPOS)]
        gitserver.wait_for(lambda: POINTS[point](api, project), timeout=120, interval=0.005,
                           what=point)
        children = gitserver.descendants(api.proc.pid)
        stack_uuid = api.stack_row(project)['uuid']
        config = str(api.sshd_dir(stack_uuid) / 'sshd_config')
        # the git server itself is not the API's: it was started to outlive it
        children = {k: t for k, t in children.items() if ' -f %s ' % config not in t + ' '}
        api.kill_api()
        if point != 'right-after-the-first-apply':
            assert not _applied(api, project), 'the kill came too late for %s' % point

        # at once (the kernel's parent-death signal), not when they are done
        gitserver.wait_for(lambda: not gitserver.still_running(children), timeout=0.5,
                           what='the dead API\'s children to go: %s'
                           % gitserver.still_running(children))
        listener = gitserver.sshd_pids(str(api.sshd_dir(stack_uuid)))
        for pid in listener:
            # no sshd session (the admin's master connection) is left either
            gitserver.wait_for(lambda: not gitserver.descendants(pid), timeout=10,
                               what='the dead engine\'s sshd sessions to end')

        restarted = time.monotonic()
        api.start()

        def all_active():
            rows = dev.api.get('/v1/infrastructure/repos', params={'limit': 100}).json()
            return sum(r['status'] == 'ACTIVE' for r in rows) == REPOS
        gitserver.wait_for(all_active, timeout=CONVERGE_SECONDS,
                           what='%d repos ACTIVE after the restart' % REPOS)
        took = time.monotonic() - restarted
        stack = dev.pin()
        assert stack['status'] == 'ACTIVE', stack
        print('%s: all %d repos ACTIVE %.1f s after the restart' % (point, REPOS, took))
        done, work = dev.clone(repos[-1]['git_url'])
        assert done.returncode == 0, done.stderr
        dev.commit(work, 'after the crash')
        done = dev.push(work)
        assert done.returncode == 0, done.stderr


def test_a_half_made_gitolite_admin_and_stale_locks_are_redone(tmp_path):
    """What a crash inside ``gitolite setup`` or a git command leaves behind."""
    project = 'project-h'
    with gitserver.running_api(tmp_path) as api:
        dev = gitserver.Dev(api, tmp_path, project, 'alice')
        repo = dev.wait_active(dev.create_repo('app'))
        stack = dev.pin()
        api.stop_api()
        # gitolite setup cut short: the admin repo's directory, no repository in it
        api.as_git(stack['uuid'], 'rm -rf repositories/gitolite-admin.git .gitolite && '
                                  'mkdir repositories/gitolite-admin.git')
        clone_git = tmp_path / 'state' / 'admin' / stack['uuid'] / 'gitolite-admin' / '.git'
        (clone_git / 'index.lock').write_text('')
        (clone_git / 'refs' / 'heads' / 'master.lock').write_text('')
        with contextlib.closing(sqlite3.connect(str(api.db_path))) as db:
            # as a cold creation left it: BUILDING, nothing applied
            db.execute("UPDATE stacks SET status = 'BUILDING', applied_version = 0, "
                       "config_version = config_version + 1")
            db.execute("UPDATE repos SET status = 'BUILDING'")
            db.commit()
        api.start()
        dev.wait_active(repo)
        api.wait_applied(project)
        done, work = dev.clone(repo['git_url'])
        assert done.returncode == 0, done.stderr
        dev.commit(work, 'after the half-made setup')
        done = dev.push(work)
        assert done.returncode == 0, done.stderr
        assert not (clone_git / 'index.lock').exists()
