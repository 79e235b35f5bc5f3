"""A cluster as an operator runs one, on MariaDB and PostgreSQL with redis:
2 solum-git-api processes without engines, 3 solum-git-engine processes that
split the stacks with tooz ([coordination] backend_url).

10 projects x 10 repos are created at once through both APIs and one engine is
killed (-9) in the middle: every repo ends ACTIVE and served, nothing is left
BUILDING, the killed engine's stacks are applied by the others, no config
version is pushed twice to a server, and a resync asked through API 1 is done
by the engine the ring gives the stack.
"""
import concurrent.futures
import os
import re
import subprocess
import time

import pytest

from tests.functional import cluster
from tests.functional import gitserver

PROJECTS, REPOS = 10, 10


@pytest.fixture(params=['mysql', 'postgresql'])
def world(request, tmp_path):
    with cluster.running(tmp_path, request.param, stacks=PROJECTS + 2) as started:
        yield started


def _admin_pushes(stacks_path, stack_uuid):
    """The subjects of the server's gitolite-admin history (one per push)."""
    repo = os.path.join(stacks_path, stack_uuid, 'home', 'repositories',
                        'gitolite-admin.git')
    done = subprocess.run(['git', '-c', 'safe.directory=*', '--git-dir', repo, 'log',
                           '--format=%s'], capture_output=True, text=True, check=True)
    return done.stdout.splitlines()


def test_two_apis_three_engines_one_killed_midway(world, tmp_path):
    api1, api2 = world.apis
    devs = [gitserver.Dev(api, tmp_path / api.config.parent.name, 'proj-%d' % p, 'dev',
                          key=(p == 0 and api is api1))
            for p in range(PROJECTS) for api in (api1, api2)]
    by_project = {p: (devs[2 * p], devs[2 * p + 1]) for p in range(PROJECTS)}
    # one developer, one key, in every project (keys are per user)
    key = devs[0]

    def create(project, index):
        dev = by_project[project][index % 2]        # both APIs, in turn
        return dev.create_repo('repo-%02d' % index)

    created = []
    with concurrent.futures.ThreadPoolExecutor(PROJECTS) as pool:
        first = [pool.submit(create, p, i) for i in range(4) for p in range(PROJECTS)]
        created += [f.result() for f in first]
        # every stack exists and the engines are at work (one is applied): kill
        # the engine that the ring gives the most stacks
        stacks = {r['uuid']: r for r in world.rows('SELECT uuid, status FROM stacks')}
        assert len(stacks) == PROJECTS
        gitserver.wait_for(lambda: world.rows(
            "SELECT id FROM stacks WHERE status = 'ACTIVE'"), timeout=120, interval=0.2,
            what='a first stack ACTIVE')
        owned = {e.member_id: [s for s in stacks if world.owner(s) is e]
                 for e in world.engines}
        victim = max(world.engines, key=lambda e: len(owned[e.member_id]))
        assert owned[victim.member_id], owned
        later = [pool.submit(create, p, i) for i in range(4, REPOS) for p in range(PROJECTS)]
        victim.kill()
        killed_at = time.monotonic()
        marks = {e.log_path: e.log_path.stat().st_size for e in world.engines
                 if e is not victim}
        created += [f.result() for f in later]
    assert len(created) == PROJECTS * REPOS

    def all_active():
        repos = world.rows('SELECT status, COUNT(*) AS n FROM repos GROUP BY status')
        stacks = world.rows('SELECT status, applied_version, config_version, lease_owner '
                            'FROM stacks')
        return ({r['status']: r['n'] for r in repos} == {'ACTIVE': PROJECTS * REPOS}
                and all(s['status'] == 'ACTIVE' and s['applied_version'] == s['config_version']
                        and s['lease_owner'] is None for s in stacks))
    gitserver.wait_for(all_active, timeout=60, interval=0.5,
                       what='all repos ACTIVE within 60 s of the kill')
    took = time.monotonic() - killed_at
    assert took < 60, took
    print('all ACTIVE %.1f s after the kill' % took)
    assert not world.rows("SELECT id FROM stacks WHERE status <> 'ACTIVE'")

    # the killed engine's stacks were applied by the others, after the kill
    after = ''.join(p.read_text(errors='replace')[offset:] for p, offset in marks.items())
    for stack_uuid in owned[victim.member_id]:
        assert 'stack %s: config version' % stack_uuid in after, stack_uuid

    # every repo is served: gitolite's info over ssh lists all ten of each project
    stacks = world.rows('SELECT uuid, project_id, ssh_host_keys FROM stacks')
    key.known_hosts.write_text(''.join(s['ssh_host_keys'] + '\n' for s in stacks))
    for s in stacks:
        repos = [r for r in created if r['project_id'] == s['project_id']]
        assert len(repos) == REPOS
        info = key.ssh(repos[0]['git_url'], 'info')
        assert info.returncode == 0, info.stderr
        served = set(re.findall(r'^\s*R\s+W\s+(\S+)$', info.stdout, re.M))
        assert served >= {r['name'] for r in repos}, info.stdout
        # one admin push per config version: never the same version twice
        pushes = [p for p in _admin_pushes(world.stacks_path, s['uuid'])
                  if p.startswith('solum-git config version')]
        assert pushes and len(pushes) == len(set(pushes)), pushes

    # a resync through API 1 is done by the engine the ring gives the stack
    live = [e for e in world.engines if e is not victim]
    stack_uuid = next(s['uuid'] for s in stacks if s['project_id'] == 'proj-0')
    owner = world.owner(stack_uuid, live).member_id
    r = by_project[0][0].api.post('/v1/infrastructure/stacks/%s/actions' % stack_uuid,
                                  json={'action': 'resync'})
    assert r.status_code == 202, r.text
    line = 'stack %s: resync 1 done' % stack_uuid
    gitserver.wait_for(lambda: any(line in e.log_path.read_text(errors='replace')
                                   for e in live), timeout=60, what='the resync')
    did = [e.member_id for e in live if line in e.log_path.read_text(errors='replace')]
    assert did == [owner], (did, owner)
