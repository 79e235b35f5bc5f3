"""The audit trail over the real API: one event per change, by whom; denied attempts."""
import datetime
import subprocess
import time

import pytest

from solum_git.common import events

R = '/v1/infrastructure/repos'
# a local trigger needs a command
LOCAL_TRIGGER = {'type': 'local', 'config': {'test_cmd': 'true'}}
E = '/v1/infrastructure/events'


def trail(client, **params):
    r = client.get(E, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def actions(client, **params):
    """(action, outcome, user_id) of the events, oldest first."""
    return [(e['action'], e['outcome'], e['user_id'])
            for e in reversed(trail(client, **params))]


def ssh_key(tmp_path, name):
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', name, '-f',
                    str(tmp_path / name)], check=True)
    return (tmp_path / (name + '.pub')).read_text()


@pytest.fixture
def repo(alice):
    r = alice.post(R, {'name': 'app'})
    assert r.status_code == 201, r.text
    return r.json()


def test_each_api_change_is_one_event_of_the_acting_user(alice, bob, repo, tmp_path):
    members, triggers = repo['members_uri'], repo['triggers_uri']
    assert alice.put(members + '/bob', {'permission': 'RW'}).status_code == 200
    # the same permission again changes nothing: no event
    assert alice.put(members + '/bob', {'permission': 'RW'}).status_code == 200
    assert alice.put(members + '/bob', {'permission': 'RW+'}).status_code == 200
    trigger = bob.post(triggers, LOCAL_TRIGGER).json()
    assert bob.delete(triggers + '/' + trigger['uuid']).status_code == 204
    token = bob.post(repo['deploy_tokens_uri'], {'name': 'ci'}).json()
    assert bob.delete(repo['deploy_tokens_uri'] + '/' + token['uuid']).status_code == 204
    dkey = bob.post(repo['deploy_keys_uri'], {'public_key': ssh_key(tmp_path, 'd')}).json()
    assert bob.delete(repo['deploy_keys_uri'] + '/' + dkey['uuid']).status_code == 204
    assert bob.put(repo['uri'], {'description': 'the app'}).status_code == 200
    assert bob.put(repo['uri'], {'name': 'app2'}).status_code == 200
    assert alice.delete(members + '/bob').status_code == 204
    key = alice.post('/v1/infrastructure/keys', {'public_key': ssh_key(tmp_path, 'k')})
    assert alice.delete(key.json()['uri']).status_code == 204
    pat = alice.post('/v1/infrastructure/tokens', {'name': 'laptop'}).json()
    assert alice.delete('/v1/infrastructure/tokens/' + pat['uuid']).status_code == 204

    ok = events.SUCCESS
    assert actions(alice) == [
        ('repo.create', ok, 'alice'), ('member.set', ok, 'alice'),
        ('member.set', ok, 'alice'), ('trigger.create', ok, 'bob'),
        ('trigger.delete', ok, 'bob'), ('deploy_token.create', ok, 'bob'),
        ('deploy_token.delete', ok, 'bob'), ('deploy_key.create', ok, 'bob'),
        ('deploy_key.delete', ok, 'bob'), ('repo.update', ok, 'bob'),
        ('repo.rename', ok, 'bob'), ('member.delete', ok, 'alice'),
        ('key.create', ok, 'alice'), ('key.delete', ok, 'alice'),
        ('token.create', ok, 'alice'), ('token.delete', ok, 'alice')]
    of_repo = trail(alice, resource_uuid=repo['uuid'])
    assert len(of_repo) == 12 and {e['resource_type'] for e in of_repo} == {'repo'}
    detail = {e['action']: e['detail'] for e in of_repo}
    assert detail['repo.rename'] == {'old_name': 'app', 'name': 'app2'}
    assert detail['member.delete'] == {'member': 'bob', 'previous': 'RW+'}
    assert detail['trigger.create']['trigger_uuid'] == trigger['uuid']
    # secrets never enter the trail
    assert token['token'] not in str(of_repo) and pat['token'] not in str(trail(alice))


def test_refused_access_changes_are_denied_events_and_change_nothing(alice, bob, repo):
    assert bob.put(repo['members_uri'] + '/bob', {'permission': 'RW+'}).status_code == 403
    assert bob.post(repo['triggers_uri'], LOCAL_TRIGGER).status_code == 403
    assert bob.put(repo['uri'], {'name': 'mine'}).status_code == 403
    assert bob.delete(repo['uri']).status_code == 403
    assert [m['user_id'] for m in alice.get(repo['members_uri']).json()] == ['alice']
    assert alice.get(repo['uri']).json()['name'] == 'app'
    denied = events.DENIED
    assert actions(alice) == [
        ('repo.create', events.SUCCESS, 'alice'), ('member.set', denied, 'bob'),
        ('trigger.create', denied, 'bob'), ('repo.rename', denied, 'bob'),
        ('repo.delete', denied, 'bob')]
    assert actions(alice, outcome='denied')[0] == ('member.set', denied, 'bob')


def test_bad_input_and_conflicts_leave_no_event(alice, repo, mallory):
    before = trail(alice)
    assert alice.put(repo['members_uri'] + '/bob', {'permission': 'W'}).status_code == 400
    assert alice.put(repo['members_uri'] + '/alice', {'permission': 'R'}).status_code == 409
    assert alice.post(R, {'name': 'app'}).status_code == 409
    assert alice.put(repo['uri'], {'name': '../x'}).status_code == 400
    # another project's repo is 404 (not a denied event in anyone's trail)
    assert mallory.put(repo['members_uri'] + '/m', {'permission': 'R'}).status_code == 404
    assert trail(alice) == before
    assert trail(mallory) == []


def test_a_project_sees_its_own_events_and_the_admin_all(alice, mallory, admin, repo):
    assert mallory.post(R, {'name': 'm'}).status_code == 201
    assert [e['project_id'] for e in trail(mallory)] == ['project-m']
    assert [e['project_id'] for e in trail(alice)] == ['project-a']
    assert mallory.get(E, params={'resource_uuid': repo['uuid']}).json() == []
    assert sorted(e['project_id'] for e in trail(admin)) == ['project-a', 'project-m']


def test_events_of_a_deleted_repo_are_kept(alice, repo):
    assert alice.delete(repo['uri']).status_code == 204
    assert [e['action'] for e in reversed(trail(alice, resource_uuid=repo['uuid']))] == [
        'repo.create', 'repo.delete']


def test_filters_and_paging(alice, repo):
    for user in ('u1', 'u2', 'u3'):
        assert alice.put(repo['members_uri'] + '/' + user,
                         {'permission': 'R'}).status_code == 200
    assert len(trail(alice, action='member.set')) == 3
    first = trail(alice, limit=2)
    assert len(first) == 2
    rest = trail(alice, limit=2, marker=first[-1]['uuid'])
    assert [e['action'] for e in rest] == ['member.set', 'repo.create']
    assert 'rel="next"' in alice.get(E, params={'limit': 2}).headers.get('Link', '')
    later = (datetime.datetime.utcnow() + datetime.timedelta(hours=1)).isoformat()
    assert trail(alice, since=later) == []
    assert len(trail(alice, since='2000-01-01T00:00:00Z')) == 4
    time.sleep(0.01)
    for params, field in (({'action': 'member.add'}, 'action'),
                          ({'since': 'yesterday'}, 'since'),
                          ({'outcome': 'maybe'}, 'outcome'),
                          ({'marker': 'nope'}, 'marker'),
                          ({'sort_key': 'user_id'}, 'sort_key')):
        r = alice.get(E, params=params)
        assert r.status_code == 400 and r.json()['faultstring'].startswith(field), r.text


def test_rename_checks_the_name_like_create(alice, repo):
    assert alice.post(R, {'name': 'other'}).status_code == 201
    r = alice.put(repo['uri'], {'name': 'other'})
    assert r.status_code == 409 and 'name' in r.json()['faultstring']
    for hostile in ('', '-x', '../etc', 'a..b', 'x.git', 'x.git1', 'gitolite-admin',
                    'CREATOR', 'a b', 'a/b', 'x' * 101, 'é'):
        r = alice.put(repo['uri'], {'name': hostile})
        assert r.status_code == 400, hostile
        assert r.json()['faultstring'].startswith('name:'), r.text
    assert alice.get(repo['uri']).json()['name'] == 'app'
    # the same name is no rename; a rename back is one
    assert alice.put(repo['uri'], {'name': 'app'}).status_code == 200
    assert alice.put(repo['uri'], {'name': 'app3'}).json()['name'] == 'app3'
    assert alice.put(repo['uri'], {'name': 'app'}).json()['name'] == 'app'
    assert len(trail(alice, action='repo.rename')) == 2


def test_a_change_whose_event_cannot_be_written_is_not_made(alice, repo, sqlite_url):
    """The event is in the change's transaction: no trail, no change."""
    import sqlalchemy as sa
    engine = sa.create_engine(sqlite_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text('ALTER TABLE events RENAME TO events_away'))
        r = alice.put(repo['members_uri'] + '/bob', {'permission': 'RW'})
        assert r.status_code == 500, r.text
        r = alice.put(repo['uri'], {'name': 'elsewhere'})
        assert r.status_code == 500, r.text
        with engine.begin() as conn:
            conn.execute(sa.text('ALTER TABLE events_away RENAME TO events'))
    finally:
        engine.dispose()
    assert [m['user_id'] for m in alice.get(repo['members_uri']).json()] == ['alice']
    assert alice.get(repo['uri']).json()['name'] == 'app'
    assert [e['action'] for e in trail(alice)] == ['repo.create']


def test_a_rename_with_other_changes_is_one_event(alice, repo):
    r = alice.put(repo['uri'], {'name': 'renamed', 'description': 'new words'})
    assert r.status_code == 200 and r.json()['description'] == 'new words'
    shown = trail(alice)
    assert [e['action'] for e in shown] == ['repo.rename', 'repo.create']
    assert shown[0]['detail'] == {'old_name': 'app', 'name': 'renamed',
                                  'description': 'new words'}
