"""Protected branches and the repo size quota, enforced by the git server itself.

Real git against a real local git server (gitolite behind sshd, and its smart
HTTP front), through solum-git-api. Project-a: alice owns (RW+) one repo per
transport, bob may push (RW). Project-q: erin, whose project gets a size
quota from an admin. Every rule is set through the API and every push is
real ``git push``, over SSH and over HTTP (personal tokens): what the server
refuses, it refuses on both, with a message naming the rule.
"""
import os
import types
import urllib.parse

import pytest

from solum_git.common import urls
from tests.functional import gitserver
from tests import helpers

PROJECT_A, PROJECT_Q = 'project-a', 'project-q'
TRANSPORTS = ('ssh', 'http')
MIB = 1024 * 1024


def _token(dev):
    r = dev.api.post('/v1/infrastructure/tokens', json={'name': 'laptop'})
    assert r.status_code == 201, r.text
    return r.json()['token']


@pytest.fixture(scope='module')
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('governance')
    with gitserver.stacks_dir() as stacks:
        api = gitserver.GitApi(tmp, stacks)
        api.start()
        try:
            w = types.SimpleNamespace(api=api, tmp=tmp)
            w.admin = helpers.Client(api.url, 'admin-project', 'root', roles=['admin'])
            w.alice = gitserver.Dev(api, tmp, PROJECT_A, 'alice')
            w.bob = gitserver.Dev(api, tmp, PROJECT_A, 'bob')
            w.erin = gitserver.Dev(api, tmp, PROJECT_Q, 'erin')
            w.repos = {t: w.alice.create_repo('web-' + t) for t in TRANSPORTS}
            for repo in w.repos.values():
                w.alice.set_member(repo, 'bob', 'RW')
            w.big = w.erin.create_repo('big')
            w.tokens = {dev.user: _token(dev) for dev in (w.alice, w.bob, w.erin)}
            for dev, repo in [(w.alice, r) for r in w.repos.values()] + [(w.erin, w.big)]:
                dev.wait_active(repo)
            api.wait_applied(PROJECT_A)
            api.wait_applied(PROJECT_Q)
            for dev in (w.alice, w.bob):
                dev.pin(w.alice.stack())
            w.erin.pin()
            w.repos = {t: w.alice.repo(r['uuid']) for t, r in w.repos.items()}
            w.big = w.erin.repo(w.big['uuid'])
            yield w
        finally:
            api.stop()


def url(world, dev, repo, transport):
    if transport == 'ssh':
        return repo['git_url']
    return urls.clone_url(repo['http_url'], dev.user, world.tokens[dev.user])


def clone(world, dev, repo, transport):
    done, work = dev.clone(url(world, dev, repo, transport))
    assert done.returncode == 0, done.stderr
    return work


def protect(world, repo, pattern, **body):
    r = world.alice.api.put('%s/protected_branches/%s' % (
        repo['uri'], urllib.parse.quote(pattern, safe='')), json=body)
    assert r.status_code == 200, r.text
    world.api.wait_applied(PROJECT_A)


def unprotect(world, repo, pattern):
    r = world.alice.api.delete('%s/protected_branches/%s' % (
        repo['uri'], urllib.parse.quote(pattern, safe='')))
    assert r.status_code == 204, r.text
    world.api.wait_applied(PROJECT_A)


def heads(world, repo):
    out = world.alice.ls_remote(repo['git_url']).stdout
    return {line.split('\t')[1]: line.split('\t')[0] for line in out.splitlines()}


def refused(done, *words):
    assert done.returncode != 0, 'the push was taken: %s' % done.stderr
    for word in words:
        assert word in done.stderr, done.stderr
    return done.stderr


@pytest.fixture
def seeded(world, request):
    """The transport's repo with main (one commit) and no rules; cleaned after."""
    transport = request.param
    repo = world.repos[transport]
    work = clone(world, world.alice, repo, transport)
    world.alice.commit(work, 'seed %s' % os.urandom(4).hex())
    assert world.alice.push(work, 'HEAD:refs/heads/main', force=True).returncode == 0
    yield types.SimpleNamespace(repo=repo, transport=transport, work=work)
    r = world.alice.api.get(repo['uri'] + '/protected_branches')
    for rule in r.json():
        unprotect(world, repo, rule['pattern'])


both = pytest.mark.parametrize('seeded', TRANSPORTS, indirect=True)


@both
def test_rw_is_refused_on_protected_main_but_pushes_a_feature_branch(world, seeded):
    protect(world, seeded.repo, 'main')
    work = clone(world, world.bob, seeded.repo, seeded.transport)
    sha = world.bob.commit(work, 'bob on main')
    before = heads(world, seeded.repo)['refs/heads/main']
    stderr = refused(world.bob.push(work, 'HEAD:refs/heads/main'),
                     'protected branch rule "main"', 'only RW+ members may push',
                     'pre-receive hook declined')
    assert 'u-bob is not RW+' in stderr
    assert heads(world, seeded.repo)['refs/heads/main'] == before
    done = world.bob.push(work, 'HEAD:refs/heads/feature-x')
    assert done.returncode == 0, done.stderr
    assert heads(world, seeded.repo)['refs/heads/feature-x'] == sha


@both
def test_rw_plus_pushes_to_protected_main(world, seeded):
    protect(world, seeded.repo, 'main')
    sha = world.alice.commit(seeded.work, 'alice on main')
    done = world.alice.push(seeded.work, 'HEAD:refs/heads/main')
    assert done.returncode == 0, done.stderr
    assert heads(world, seeded.repo)['refs/heads/main'] == sha


@both
def test_a_rule_with_push_rw_lets_rw_members_push(world, seeded):
    protect(world, seeded.repo, 'main', push='RW')
    work = clone(world, world.bob, seeded.repo, seeded.transport)
    sha = world.bob.commit(work, 'bob may')
    done = world.bob.push(work, 'HEAD:refs/heads/main')
    assert done.returncode == 0, done.stderr
    assert heads(world, seeded.repo)['refs/heads/main'] == sha


@both
def test_force_push_is_refused_even_for_rw_plus_unless_allowed(world, seeded):
    protect(world, seeded.repo, 'main')
    work = seeded.work
    world.alice.git('reset', '-q', '--hard', 'HEAD~1', cwd=work)
    other = world.alice.commit(work, 'rewritten')
    before = heads(world, seeded.repo)['refs/heads/main']
    refused(world.alice.push(work, 'HEAD:refs/heads/main', force=True),
            'protected branch rule "main"', 'may not be force-pushed',
            'allow_force_push is false')
    assert heads(world, seeded.repo)['refs/heads/main'] == before
    protect(world, seeded.repo, 'main', allow_force_push=True)
    done = world.alice.push(work, 'HEAD:refs/heads/main', force=True)
    assert done.returncode == 0, done.stderr
    assert heads(world, seeded.repo)['refs/heads/main'] == other


@both
def test_delete_is_refused_unless_allowed(world, seeded):
    work = seeded.work
    assert world.alice.push(work, 'HEAD:refs/heads/release/1').returncode == 0
    protect(world, seeded.repo, 'release/*')
    refused(world.alice.push(work, ':refs/heads/release/1'),
            'protected branch rule "release/*"', 'may not be deleted',
            'allow_delete is false')
    assert 'refs/heads/release/1' in heads(world, seeded.repo)
    protect(world, seeded.repo, 'release/*', allow_delete=True)
    done = world.alice.push(work, ':refs/heads/release/1')
    assert done.returncode == 0, done.stderr
    assert 'refs/heads/release/1' not in heads(world, seeded.repo)


@both
def test_unprotecting_lets_rw_push_again(world, seeded):
    protect(world, seeded.repo, 'main')
    work = clone(world, world.bob, seeded.repo, seeded.transport)
    world.bob.commit(work, 'bob waits')
    refused(world.bob.push(work, 'HEAD:refs/heads/main'), 'protected branch rule')
    unprotect(world, seeded.repo, 'main')
    done = world.bob.push(work, 'HEAD:refs/heads/main')
    assert done.returncode == 0, done.stderr


def _random_file(work, name, size):
    (work / name).write_bytes(os.urandom(size))


def _set_quota(world, mb):
    r = world.admin.put('/v1/infrastructure/quotas/%s' % PROJECT_Q,
                        json={'repo_size_mb': mb})
    assert r.status_code == 200, r.text
    world.api.wait_applied(PROJECT_Q)


@pytest.mark.parametrize('transport', TRANSPORTS)
def test_size_quota_refuses_growth_and_takes_a_push_that_shrinks(world, transport):
    _set_quota(world, -1)
    erin, repo = world.erin, world.big
    work = clone(world, erin, repo, transport)
    branch = 'bulk-' + transport
    erin.git('checkout', '-q', '-B', 'main', cwd=work)
    erin.commit(work, 'small %s' % transport)
    assert erin.push(work, 'HEAD:refs/heads/main', force=True).returncode == 0
    erin.git('checkout', '-q', '-b', branch, cwd=work)
    _random_file(work, 'bulk.bin', 3 * MIB)
    erin.commit(work, 'bulk %s' % transport, files={})
    done = erin.push(work, 'HEAD:refs/heads/' + branch)
    assert done.returncode == 0, done.stderr
    # over its quota now: growth is refused, with the size and the quota
    _set_quota(world, 2)
    erin.git('checkout', '-q', 'main', cwd=work)
    _random_file(work, 'more.bin', 512 * 1024)
    erin.commit(work, 'more %s' % transport, files={})
    before = heads(world, repo)
    stderr = refused(erin.push(work, 'HEAD:refs/heads/main'),
                     'quota repo_size_mb', 'its quota is 2.0 MiB',
                     'pre-receive hook declined')
    assert 'this push would make the repo 3.' in stderr, stderr
    assert heads(world, repo) == before
    # deleting the bulk branch shrinks it: always taken (no-worsen)
    done = erin.push(work, ':refs/heads/' + branch)
    assert done.returncode == 0, done.stderr
    # now under the quota (the dropped objects still on disk do not count)
    erin.git('reset', '-q', '--hard', 'HEAD~1', cwd=work)
    erin.commit(work, 'small again %s' % transport)
    done = erin.push(work, 'HEAD:refs/heads/main', force=True)
    assert done.returncode == 0, done.stderr
    _set_quota(world, -1)


def test_repo_view_reports_the_size_the_server_measured(world):
    erin, repo = world.erin, world.big
    work = clone(world, erin, repo, 'ssh')
    erin.git('checkout', '-q', '-B', 'sized', cwd=work)
    _random_file(work, 'sized.bin', 1 * MIB)
    erin.commit(work, 'sized', files={})
    assert erin.push(work, 'HEAD:refs/heads/sized').returncode == 0

    def sized():
        view = erin.repo(repo['uuid'])
        return view if (view['size_bytes'] or 0) > MIB else None
    view = gitserver.wait_for(sized, 30, what='size_bytes reported')
    quota = erin.api.get('/v1/infrastructure/quotas/%s' % PROJECT_Q).json()
    assert quota['usage']['largest_repo_bytes'] == view['size_bytes']
