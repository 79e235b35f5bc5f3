"""Renaming a repo with real git against a real local git server (gitolite + sshd).

alice owns "web" with a commit; carol may push (RW); dave reads only "docs".
After "web" becomes "site": the old URL is refused over SSH and HTTP with a
message naming the new name (to those who may read it), the new URL has the
history, carol still pushes, the trigger still fires, every push and change
is one event of the user who made it.
"""
import threading

import pytest

from tests.functional import gitserver

PROJECT = 'project-a'
R = '/v1/infrastructure/repos'


@pytest.fixture(scope='module')
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('rename')
    with gitserver.running_api(tmp) as api:
        w = gitserver.team(api, tmp, alice=PROJECT, carol=PROJECT, dave=PROJECT)
        w.web = w.alice.create_repo('web')
        w.docs = w.alice.create_repo('docs')
        w.alice.set_member(w.web, 'carol', 'RW')
        w.alice.set_member(w.docs, 'dave', 'R')
        r = w.alice.api.post(w.web['triggers_uri'], json={
            'type': 'local', 'branches': 'main', 'config': {'test_cmd': 'true'}})
        assert r.status_code == 201, r.text
        w.trigger = r.json()
        gitserver.settle(api, (w.alice, w.web), (w.alice, w.docs))
        for dev in (w.alice, w.carol, w.dave):
            dev.pin()
        w.web = w.alice.repo(w.web['uuid'])
        w.seed, w.first = w.alice.seed(w.web, 'seed', 'one')
        w.token = w.alice.api.post('/v1/infrastructure/tokens',
                                   json={'name': 'laptop'}).json()
        w.deploy_token = w.alice.api.post(w.web['deploy_tokens_uri'],
                                          json={'name': 'ci'}).json()
        w.old = w.web
        r = w.alice.api.put(w.web['uri'], json={'name': 'site'})
        assert r.status_code == 200, r.text
        w.new = r.json()
        api.wait_applied(PROJECT)
        yield w


def http(url, user, secret):
    scheme, rest = url.split('://', 1)
    return '%s://%s:%s@%s' % (scheme, user, secret, rest)


def test_the_view_has_the_new_name_and_urls(world):
    assert world.new['uuid'] == world.old['uuid']
    assert world.new['name'] == 'site'
    assert world.new['git_url'].endswith('/site')
    assert world.new['http_url'].endswith('/site.git')
    assert world.alice.repo(world.new['uuid'])['status'] == 'ACTIVE'


def test_old_ssh_url_is_refused_naming_the_new_one(world):
    done = world.alice.ls_remote(world.old['git_url'])
    assert done.returncode != 0
    assert 'renamed to site' in done.stderr and world.new['git_url'] in done.stderr, \
        done.stderr
    world.carol.commit(world.seed, 'to the old name')
    done = world.carol.git('push', world.old['git_url'], 'HEAD:refs/heads/main',
                           cwd=world.seed)
    assert done.returncode != 0 and 'renamed to site' in done.stderr, done.stderr
    world.alice.git('reset', '-q', '--hard', world.first, cwd=world.seed)


def test_old_http_url_is_refused_naming_the_new_one(world):
    done = world.alice.ls_remote(http(world.old['http_url'], 'alice',
                                      world.token['token']))
    assert done.returncode != 0
    assert 'renamed to site' in done.stderr and world.new['http_url'] in done.stderr, \
        done.stderr


def test_a_deploy_token_made_before_the_rename_follows_its_repo(world):
    token = world.deploy_token
    done = world.alice.ls_remote(http(world.old['http_url'], token['username'],
                                      token['token']))
    assert done.returncode != 0 and 'renamed to site' in done.stderr, done.stderr
    done = world.alice.ls_remote(http(world.new['http_url'], token['username'],
                                      token['token']))
    assert done.returncode == 0 and world.first in done.stdout, done.stderr


def test_who_may_not_read_it_learns_nothing_of_the_new_name(world):
    done = world.dave.ls_remote(world.old['git_url'])
    assert done.returncode != 0 and 'DENIED' in done.stderr, done.stderr
    assert 'site' not in done.stderr


def test_new_url_has_the_history_and_members_still_push(world):
    done, work = world.carol.clone(world.new['git_url'])
    assert done.returncode == 0, done.stderr
    assert world.carol.git('rev-parse', 'HEAD', cwd=work).stdout.strip() == world.first
    sha = world.carol.commit(work, 'two')
    done = world.carol.push(work)
    assert done.returncode == 0, done.stderr
    assert sha in world.alice.ls_remote(world.new['git_url']).stdout
    # over HTTP too, with the same token
    done, again = world.alice.clone(http(world.new['http_url'], 'alice',
                                         world.token['token']))
    assert done.returncode == 0, done.stderr

    def recorded():
        pushes = world.alice.api.get(R + '/%s/pushes' % world.new['uuid']).json()
        return [p for p in pushes if any(r['new'] == sha for r in p['refs'])]
    push = gitserver.wait_for(recorded, 30, what="carol's push recorded")[0]
    assert push['pusher'] == 'carol'
    # the trigger made before the rename still starts its pipeline
    assert [r['trigger_uuid'] for r in push['runs']] == [world.trigger['uuid']]
    # pushes made before the rename are the repo's still
    pushes = world.alice.api.get(R + '/%s/pushes' % world.new['uuid']).json()
    assert {p['pusher'] for p in pushes} == {'alice', 'carol'} and len(pushes) == 2


def test_each_push_and_change_is_one_event_of_its_user(world):
    events = world.alice.api.get('/v1/infrastructure/events', params={
        'resource_uuid': world.new['uuid']}).json()
    shown = [(e['action'], e['user_id']) for e in reversed(events)]
    pushes = [e for e in events if e['action'] == 'push']
    assert shown[:6] == [('repo.create', 'alice'), ('member.set', 'alice'),
                         ('trigger.create', 'alice'), ('push', 'alice'),
                         ('deploy_token.create', 'alice'),
                         ('repo.rename', 'alice')], shown
    assert [e['user_id'] for e in reversed(pushes)] == ['alice', 'carol']
    # the refused push to the old URL is no event
    assert len(pushes) == 2
    assert all(e['outcome'] == 'success' for e in events)


def test_a_name_renamed_away_can_be_taken_by_a_new_repo(world):
    fresh = world.alice.create_repo('web')
    world.alice.wait_active(fresh)
    world.api.wait_applied(PROJECT)
    fresh = world.alice.repo(fresh['uuid'])
    assert fresh['git_url'] == world.old['git_url']
    done = world.alice.ls_remote(fresh['git_url'])
    assert done.returncode == 0 and done.stdout.strip() == '', done.stdout + done.stderr
    # the renamed repo kept its data
    done, work = world.alice.clone(world.new['git_url'])
    assert done.returncode == 0, done.stderr
    assert world.alice.git('merge-base', '--is-ancestor', world.first, 'HEAD',
                           cwd=work).returncode == 0
    r = world.alice.api.delete(fresh['uri'])
    assert r.status_code == 204
    world.api.wait_applied(PROJECT)


def test_a_rename_while_pushes_go_on_loses_no_accepted_push(world):
    repo = world.alice.create_repo('busy')
    world.alice.wait_active(repo)
    world.api.wait_applied(PROJECT)
    repo = world.alice.repo(repo['uuid'])
    done, work = world.alice.clone(repo['git_url'], 'busy')
    assert done.returncode == 0, done.stderr
    world.alice.commit(work, 'base')
    assert world.alice.push(work).returncode == 0
    accepted, stop = [], threading.Event()

    def pusher():
        n = 0
        while not stop.is_set() and n < 200:
            n += 1
            sha = world.alice.commit(work, 'c%d' % n)
            for url in (repo['git_url'], repo['git_url'] + '2'):
                done = world.alice.git('push', '-q', url, 'HEAD:refs/heads/main', cwd=work)
                if done.returncode == 0:
                    accepted.append(sha)
                    break
    thread = threading.Thread(target=pusher)
    thread.start()
    try:
        gitserver.wait_for(lambda: len(accepted) >= 2, 60, what='pushes under way')
        r = world.alice.api.put(repo['uri'], json={'name': 'busy2'})
        assert r.status_code == 200, r.text
        world.api.wait_applied(PROJECT)
        count = len(accepted)
        gitserver.wait_for(lambda: len(accepted) >= count + 2, 60,
                           what='pushes to the new name')
    finally:
        stop.set()
        thread.join(120)
    new_url = world.alice.repo(repo['uuid'])['git_url']
    assert new_url == repo['git_url'] + '2'
    head = world.alice.ls_remote(new_url).stdout.split()[0]
    for sha in accepted:
        done = world.alice.git('merge-base', '--is-ancestor', sha, head, cwd=work)
        assert done.returncode == 0, 'accepted push %s is not in the renamed repo' % sha
    home = world.api.home(world.alice.stack()['uuid'])
    assert not (home / 'repositories' / 'busy.git').exists()


def test_a_move_the_server_cannot_do_keeps_the_data_and_is_done_later(world):
    repo = world.alice.create_repo('keep')
    world.alice.wait_active(repo)
    world.api.wait_applied(PROJECT)
    repo = world.alice.repo(repo['uuid'])
    done, work = world.alice.clone(repo['git_url'], 'keep')
    assert done.returncode == 0, done.stderr
    sha = world.alice.commit(work, 'kept')
    assert world.alice.push(work).returncode == 0
    stack = world.alice.stack()
    repos = world.api.home(stack['uuid']) / 'repositories'
    # something in the new name's place that the server must not replace
    world.api.as_git(stack['uuid'], 'ln -s /nonexistent repositories/later.git')
    r = world.alice.api.put(repo['uri'], json={'name': 'later'})
    assert r.status_code == 200, r.text

    def refused():
        view = world.alice.repo(repo['uuid'])
        return view if view['status'] == 'ERROR' else None
    view = gitserver.wait_for(refused, 60, what='the repo in ERROR')
    assert 'not moved from keep' in view['status_reason'] and 'in the way' in \
        view['status_reason'], view['status_reason']
    assert (repos / 'keep.git' / 'solum-git-repo').read_text().strip() == repo['uuid']
    world.api.as_git(stack['uuid'], 'rm repositories/later.git')
    world.api.resync(world.alice.api, stack['uuid'])
    world.api.wait_applied(PROJECT)
    view = world.alice.wait_active(repo)
    assert view['name'] == 'later' and not (repos / 'keep.git').exists()
    assert sha in world.alice.ls_remote(view['git_url']).stdout
